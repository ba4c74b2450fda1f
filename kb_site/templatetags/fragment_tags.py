"""``{% fragment "name" part… %}…{% endfragment %}``: the enclosed template rendered once per ``part``
values and kept by the process (``kb_site.fragments``); the phrasings in it speak as each reader.

A preview (``request.is_preview``) is always rendered: the draft shown is not what the key names.
"""

from django import template

from kb_site import fragments

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, nodelist, name, parts):
        self.nodelist = nodelist
        self.name = name
        self.parts = parts

    def render(self, context):
        request = context.get("request")
        if request is None or getattr(request, "is_preview", False):
            return self.nodelist.render(context)

        def render(flags):
            with context.push(**flags):
                return self.nodelist.render(context)

        parts = [part.resolve(context) for part in self.parts]
        return fragments.render_for_reader(request, self.name.resolve(context), parts, render)


@register.tag
def fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fragment %} needs a name")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(
        nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(bit) for bit in bits[2:]]
    )
