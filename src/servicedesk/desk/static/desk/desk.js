// The desk's own script: keyboard shortcuts, "typing" for the collision notice, the board's
// drag and drop. Everything also works without it (forms post, menus move cards).
(function () {
  "use strict";

  function typingField() { return document.getElementById("typing"); }

  // Typing into a field is not a shortcut; a focused checkbox, radio or button is no field,
  // nor is anything left focused in a dialog that has just closed.
  const NOT_TYPED = ["checkbox", "radio", "button", "submit", "reset"];

  function inField(target) {
    const field = target.closest("input, textarea, select, [contenteditable=true]");
    if (field === null || field.closest("dialog:not([open])") !== null) return false;
    return !(field.tagName === "INPUT" && NOT_TYPED.includes(field.type));
  }

  // -- keyboard shortcuts ----------------------------------------------------------------
  let row = -1;

  function rows() {
    const list = document.querySelector("[data-keyboard-list] tbody");
    return list ? Array.from(list.querySelectorAll("tr")).filter((tr) => tr.querySelector("a")) : [];
  }

  function select(index) {
    const all = rows();
    if (!all.length) return;
    row = Math.max(0, Math.min(all.length - 1, index));
    all.forEach((tr, i) => tr.classList.toggle("selected", i === row));
    all[row].querySelector("a").focus();
  }

  // The last list of tickets seen (a queue, search results), for j/k on a ticket page.
  const LIST = "servicedesk.list";

  function rememberList() {
    const links = rows().map((tr) => tr.querySelector("a").getAttribute("href"));
    if (links.length) window.sessionStorage.setItem(LIST, JSON.stringify(links));
  }

  function neighbour(step) {
    let links = [];
    try { links = JSON.parse(window.sessionStorage.getItem(LIST) || "[]"); } catch (e) { links = []; }
    const here = links.indexOf(window.location.pathname);
    const next = links[here + step];
    if (here !== -1 && next) window.location = next;
  }

  function composeAs(kind) {
    const radio = document.querySelector(`#composer input[name=kind][value=${kind}]`);
    const body = document.querySelector("#composer textarea");
    if (radio && body) { radio.checked = true; body.focus(); }
  }

  // WCAG 2.1.4: single-key shortcuts can be turned off (kept in this browser).
  const KEYS = "servicedesk.shortcuts";
  function keysOn() { return window.localStorage.getItem(KEYS) !== "off"; }

  document.addEventListener("change", (event) => {
    if (event.target.id === "keys-on") {
      window.localStorage.setItem(KEYS, event.target.checked ? "on" : "off");
    }
  });
  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("keys-on");
    if (box) box.checked = keysOn();
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || inField(event.target)) return;
    if (!keysOn()) return;
    const key = event.key;
    if (key === "?") {
      const dialog = document.getElementById("shortcuts");
      if (dialog && !dialog.open) { dialog.showModal(); event.preventDefault(); }
    } else if (key === "/") {
      const box = document.querySelector("[data-shortcut='/']");
      if (box) { box.focus(); box.select(); event.preventDefault(); }
    } else if ((key === "j" || key === "k") && document.querySelector("[data-ticket]")) {
      neighbour(key === "j" ? 1 : -1);  // on a ticket: the next one of the last list seen
      event.preventDefault();
    } else if (key === "j") { select(row + 1); event.preventDefault(); }
    else if (key === "k") { select(row - 1); event.preventDefault(); }
    else if (key === "r") { composeAs("reply"); event.preventDefault(); }
    else if (key === "n") { composeAs("note"); event.preventDefault(); }
    else if (key === "a") {
      const form = document.getElementById("assign-me");
      if (form) { form.requestSubmit(); event.preventDefault(); }
    } else if (key === "c") {
      const link = document.querySelector("[data-shortcut=c]");
      if (link) { window.location = link.href; event.preventDefault(); }
    }
  });

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) document.getElementById(opener.dataset.openDialog).showModal();
  });

  // -- typing: the next poll tells the others ----------------------------------------------
  document.addEventListener("input", (event) => {
    if (event.target.closest("#composer textarea") && typingField()) typingField().value = "1";
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt.id === "watchers" && typingField()) typingField().value = "0";
  });

  // -- the board --------------------------------------------------------------------------
  function csrf() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function announce(text) {
    const status = document.getElementById("board-status");
    if (status) status.textContent = text;
  }

  function setUpBoard(board) {
    let dragged = null;
    board.addEventListener("dragstart", (event) => {
      dragged = event.target.closest(".card");
      if (dragged) event.dataTransfer.setData("text/plain", dragged.dataset.number);
    });
    board.addEventListener("dragover", (event) => {
      const column = event.target.closest(".column");
      if (column && dragged) { event.preventDefault(); column.classList.add("over"); }
    });
    board.addEventListener("dragleave", (event) => {
      const column = event.target.closest(".column");
      if (column) column.classList.remove("over");
    });
    board.addEventListener("drop", async (event) => {
      const column = event.target.closest(".column");
      if (!column || !dragged) return;
      event.preventDefault();
      column.classList.remove("over");
      const card = dragged;
      dragged = null;
      const from = card.parentElement;
      const next = card.nextElementSibling;
      if (card.closest(".column") === column) return;
      column.querySelector(".cards").prepend(card);  // optimistic; undone if refused
      const body = new URLSearchParams({ to: column.dataset.status });
      const answer = await fetch(card.dataset.move, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": csrf(), "X-Requested-With": "fetch" },
        credentials: "same-origin",
      });
      if (answer.ok) {
        announce(`${card.querySelector("a").textContent}: ${column.querySelector("h2").firstChild.textContent.trim()}`);
        return;
      }
      const reason = await answer.text();
      from.insertBefore(card, next);  // snaps back
      card.classList.add("refused");
      let note = card.querySelector(".refusal");
      if (!note) {
        note = document.createElement("p");
        note.className = "refusal error";
        card.append(note);
      }
      note.textContent = `${board.dataset.refused}: ${reason}`;
      announce(note.textContent);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-board]").forEach(setUpBoard);
    rememberList();
    document.documentElement.dataset.deskReady = "true";  // for tests: the keys are live
  });
})();
