from urllib.parse import urlencode

from django import template

register = template.Library()


@register.simple_tag
def query_string(query, **override):
    """The fleet query's parameters with some replaced, URL-encoded."""
    return urlencode(query.as_params(**override))


@register.filter
def get(mapping, key):
    return mapping.get(key, 0)


@register.filter
def flip(current_sort, key):
    """Clicking the sorted column again reverses it."""
    return f"-{key}" if current_sort == key else key
