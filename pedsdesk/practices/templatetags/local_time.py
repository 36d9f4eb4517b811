"""``{% load local_time %}``: ``{{ start|when }}``, ``{{ start|day }}``, ``{{ start|clock }}`` on the
active zone's clock, in the active language (see pedsdesk/local_time.py)."""

from django import template

from pedsdesk import local_time

register = template.Library()
register.filter("when", local_time.when)
register.filter("day", local_time.day)
register.filter("clock", local_time.clock)
