"""`{% section "name" %}…{% endsection %}`: a part of a page shown only to the roles whose
capability `permissions.SECTIONS` names for it (minimum necessary, 45 CFR 164.502(b)).

The section is wrapped in `<div data-section="name" class="section">` (laid out as if the
wrapper were absent), so tests/security/test_access_matrix.py can check every page's
sections for every role. An unknown name fails when the template is compiled.
"""

from django import template
from django.template.base import Node, NodeList, Parser, Token
from django.utils.html import format_html

from cocm.accounts.permissions import SECTIONS, can

register = template.Library()


class SectionNode(Node):
    def __init__(self, name: str, nodelist: NodeList) -> None:
        self.name = name
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        request = context.get("request")
        user = getattr(request, "user", None)
        if user is None or not can(user, SECTIONS[self.name]):
            return ""
        return format_html(
            '<div data-section="{}" class="section">{}</div>',
            self.name,
            self.nodelist.render(context),
        )


@register.tag("section")
def section(parser: Parser, token: Token) -> SectionNode:
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError('Use {% section "name" %}…{% endsection %}.')
    name = bits[1][1:-1]
    if name not in SECTIONS:
        raise template.TemplateSyntaxError(
            f"Section '{name}' is not declared in cocm/accounts/permissions.py SECTIONS."
        )
    nodelist = parser.parse(("endsection",))
    parser.delete_first_token()
    return SectionNode(name, nodelist)
