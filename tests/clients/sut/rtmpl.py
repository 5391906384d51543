"""The runner's `${name}` template syntax (runner/run_tmpl.h), for tests that
render fixtures before the runner can: `$${` is a literal `${`, any other `$`
is literal, an unknown name is an error (never an empty string)."""

import re

_REF = re.compile(r"\$\$\{|\$\{([^}\s]*)\}")


def render(text, values):
    def sub(m):
        if m.group(0) == "$${":
            return "${"
        name = m.group(1)
        if name not in values:
            raise KeyError("unknown name ${%s}" % name)
        return values[name]
    return _REF.sub(sub, text)
