//! Joining paths onto configured base URLs the way Go's `url.URL.JoinPath`
//! does, so that URLs we print (iPXE scripts, talosctl links) match upstream
//! whether or not the operator wrote a trailing slash or a path prefix.

/// Appends `elements` to the path of the absolute URL `base`, cleaning the
/// result as Go's `path.Join` does; the query and fragment of `base` are kept
/// after the new path.
pub(crate) fn join_url(base: &str, elements: &[&str]) -> String {
    let (rest, fragment) = split_at_char(base, '#');
    let (rest, query) = split_at_char(rest, '?');
    let (origin, path) = match rest.find("://") {
        Some(i) => {
            let authority_start = i + "://".len();
            let path_start = rest
                .get(authority_start..)
                .and_then(|after| after.find('/'))
                .map_or(rest.len(), |j| authority_start + j);
            rest.split_at(path_start)
        }
        None => ("", rest),
    };

    let mut segments: Vec<&str> = Vec::new();
    for segment in std::iter::once(path)
        .chain(elements.iter().copied())
        .flat_map(|e| e.split('/'))
    {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }

    let mut out = String::with_capacity(base.len() + 128);
    out.push_str(origin);
    out.push('/');
    out.push_str(&segments.join("/"));
    if elements.last().is_some_and(|e| e.ends_with('/')) && !out.ends_with('/') {
        out.push('/');
    }
    out.push_str(query);
    out.push_str(fragment);
    out
}

/// Splits `s` before the first `c` (the second part keeps `c`), or returns
/// `(s, "")`.
fn split_at_char(s: &str, c: char) -> (&str, &str) {
    s.find(c).map_or((s, ""), |i| s.split_at(i))
}
