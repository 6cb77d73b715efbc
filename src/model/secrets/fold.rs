//! Folding: case and accents, the way login names are matched.

/// `text` as logins compare names: lowercase, accents and other scripts
/// transliterated (`Éloïse` → `eloise`, deunicode). With `spans`, the
/// bytes of `text` that each byte of the result comes from. Pages are
/// mostly ASCII: a run of it is copied lowercased at once.
pub(super) fn fold(text: &str, mut spans: Option<&mut Vec<(usize, usize)>>) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    while at < bytes.len() {
        let ascii = bytes[at..].iter().take_while(|b| b.is_ascii()).count();
        if ascii > 0 {
            out.extend(bytes[at..at + ascii].iter().map(u8::to_ascii_lowercase));
            if let Some(spans) = spans.as_deref_mut() {
                spans.extend((at..at + ascii).map(|i| (i, i + 1)));
            }
            at += ascii;
            continue;
        }
        let Some(c) = text.get(at..).and_then(|t| t.chars().next()) else {
            break;
        };
        let before = out.len();
        match deunicode::deunicode_char(c) {
            Some(ascii) => out.extend(ascii.bytes().map(|b| b.to_ascii_lowercase())),
            None => {
                let mut buf = [0; 4];
                for l in c.to_lowercase() {
                    out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        if let Some(spans) = spans.as_deref_mut() {
            let span = (at, at + c.len_utf8());
            spans.extend(std::iter::repeat_n(span, out.len() - before));
        }
        at += c.len_utf8();
    }
    out
}

/// [`fold()`], letters and digits only: `Blue Fox 42!` → `bluefox42`.
pub(super) fn bare(text: &str) -> Vec<u8> {
    let mut folded = fold(text, None);
    folded.retain(u8::is_ascii_alphanumeric);
    folded
}
