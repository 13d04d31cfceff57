"""A change request's assessment in words, for every template that shows it (changes.words)."""

from django import template

from servicedesk.changes import words

register = template.Library()
register.filter("chargeable_words", words.chargeable_words)
register.filter("hours_words", words.hours_words)
