from django.urls import path

from servicedesk.desk import board, calls, escalations, search, views

app_name = "desk"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("queues/<slug:slug>/", views.queue, name="queue-named"),
    path("filters/", views.save_filter, name="save-filter"),
    path("filters/<int:pk>/delete/", views.delete_filter, name="delete-filter"),
    path("bulk/", views.bulk, name="bulk"),
    path("go/", views.go, name="go"),
    path("search/", search.search, name="search"),
    path("board/", board.board, name="board"),
    path("board/<str:number>/move/", board.move, name="move"),
    path("calls/new/", calls.log_call, name="call"),
    path("triage/preview/", views.triage_preview, name="triage-preview"),
    path("tickets/<str:number>/", views.ticket_page, name="ticket"),
    path("tickets/<str:number>/reply/", views.reply, name="reply"),
    path("tickets/<str:number>/status/", views.change_status, name="status"),
    path("tickets/<str:number>/assign/", views.assign, name="assign"),
    path("tickets/<str:number>/triage/", views.confirm_triage, name="triage"),
    path("tickets/<str:number>/ping/", views.ping, name="ping"),
    path("tickets/<str:number>/explain/", views.explain, name="explain"),
    path("tickets/<str:number>/history/", views.ticket_history, name="history"),
    path("tickets/<str:number>/macro/", views.macro, name="macro"),
    path("tickets/<str:number>/links/", views.link, name="link"),
    path("tickets/<str:number>/escalate/", escalations.escalate, name="escalate"),
    path("tickets/<str:number>/de-escalate/", escalations.de_escalate, name="de-escalate"),
    path(
        "tickets/<str:number>/escalations/<int:pk>/return/",
        escalations.return_from_vendor,
        name="return-from-vendor",
    ),
    path(
        "tickets/<str:number>/escalations/<int:pk>/answer/",
        escalations.vendor_answer,
        name="vendor-answer",
    ),
    path("tickets/<str:number>/escalations/<int:pk>/bug/", escalations.record_bug, name="bug"),
    path("releases/", escalations.releases, name="releases"),
    path("releases/<int:pk>/", escalations.release_page, name="release"),
    path("releases/<int:pk>/ship/", escalations.ship_release, name="ship-release"),
    path("releases/<int:pk>/tell/", escalations.tell_requesters, name="tell-requesters"),
]
