# Sourced by the bench scripts that compare with Python libraries (from the repository root).
# `python_venv DIR REQUIREMENTS` makes the virtualenv DIR and installs the pinned REQUIREMENTS
# into it, again only when that file changed since the last install: a copy of it in DIR is the
# stamp, so a second run starts at once and a changed pin reinstalls.
python_venv() {
    local venv=$1 requirements=$2
    local stamp=$venv/.installed-requirements
    if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
        echo "== installing $requirements into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet -r "$requirements"
        cp "$requirements" "$stamp"
    fi
}
