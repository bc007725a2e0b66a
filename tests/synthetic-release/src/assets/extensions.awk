# Reads Talos's /extensions.yaml (go-yaml block style, any indentation) and
# prints one line per layer: "<image> <name> <version>" ("-" when absent).
#
# A layer starts at "- image:" at the indentation of the first such line, so
# text inside a layer's extraInfo block (which may itself say "image:") is
# never taken for a layer. Within a layer, the first "name:" is
# metadata.name, and "version:" at that same indentation is metadata.version
# (compatibility.talos.version is deeper).

function value(line) {
	sub(/^[^:]*:[ \t]*/, "", line)
	sub(/[ \t\r]+$/, "", line)
	if (line ~ /^".*"$/ || line ~ /^'.*'$/) {
		line = substr(line, 2, length(line) - 2)
	}
	return line
}

function flush() {
	if (image != "") {
		print image, (name == "" ? "-" : name), (version == "" ? "-" : version)
	}
	image = ""; name = ""; version = ""; name_indent = -1
}

BEGIN { layer_indent = -1; name_indent = -1 }

{
	match($0, /^ */)
	indent = RLENGTH
	if ($0 ~ /^ *- image:/ && (layer_indent < 0 || indent == layer_indent)) {
		flush()
		layer_indent = indent
		image = value($0)
		next
	}
	if (image == "") {
		next
	}
	if (name == "" && $0 ~ /^ *name:/) {
		name = value($0)
		name_indent = indent
		next
	}
	if (name != "" && version == "" && indent == name_indent && $0 ~ /^ *version:/) {
		version = value($0)
	}
}

END { flush() }
