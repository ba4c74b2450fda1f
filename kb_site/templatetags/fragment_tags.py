"""``{% fragment "name" part… [by_view_restrictions] %}…{% endfragment %}``: the enclosed template rendered
once per ``part`` values and kept by the process (``kb_site.fragments``); the phrasings in it speak as
each reader. ``by_view_restrictions``: it lists pages, kept once per set of view restrictions the reader
does not pass.

A preview (``request.is_preview``) is always rendered: the draft shown is not what the key names.
"""

from django import template

from kb_site import fragments

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, nodelist, name, parts, by_view_restrictions=False):
        self.nodelist = nodelist
        self.name = name
        self.parts = parts
        self.by_view_restrictions = by_view_restrictions

    def render(self, context):
        request = context.get("request")
        if request is None or getattr(request, "is_preview", False):
            return self.nodelist.render(context)

        def render(flags):
            with context.push(**flags):
                return self.nodelist.render(context)

        parts = [part.resolve(context) for part in self.parts]
        if self.by_view_restrictions:
            parts.append(fragments.blocked_paths(request))
        return fragments.render_for_reader(request, self.name.resolve(context), parts, render)


@register.tag
def fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fragment %} needs a name")
    by_view_restrictions = bits[-1] == "by_view_restrictions"
    if by_view_restrictions:
        bits = bits[:-1]
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    parts = [parser.compile_filter(bit) for bit in bits[2:]]
    return FragmentNode(nodelist, parser.compile_filter(bits[1]), parts, by_view_restrictions)
