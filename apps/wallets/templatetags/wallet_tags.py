"""Wallet parts shown on other apps' pages, rendered in the same request (one URL per page)."""
from django import template

from apps.wallets.node_sessions import node_page_context

register = template.Library()


@register.inclusion_tag("wallets/_node_sessions.html", takes_context=True)
def node_sessions(context, node):
    """A node's stored sessions and a way to log in, for the node page."""
    return node_page_context(node, context["request"].membership)
