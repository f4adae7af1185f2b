//! `@mentions`: which members a message names, and the composer's suggestions while one is typed. A mention is `@` followed by a member's display name
//! (any case), ending the word; where two names fit at one `@` ("@Ana" and "@Ana Souza"), the longer
//! one is meant.

use super::Author;
use crate::model::UserId;

/// The members `body` mentions, each once, in the order first mentioned.
pub fn mentioned(body: &str, members: &[Author]) -> Vec<UserId> {
    let lower = body.to_lowercase();
    let names: Vec<(UserId, String)> = members
        .iter()
        .filter(|m| !m.display_name.trim().is_empty())
        .map(|m| (m.id, m.display_name.to_lowercase()))
        .collect();
    let mut found = Vec::new();
    for (at, _) in lower.match_indices('@') {
        let rest = &lower[at + 1..];
        let best = names
            .iter()
            .filter(|(_, name)| {
                rest.starts_with(name.as_str())
                    && rest[name.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_alphanumeric())
            })
            .max_by_key(|(_, name)| name.len());
        if let Some((id, _)) = best {
            if !found.contains(id) {
                found.push(*id);
            }
        }
    }
    found
}

/// Names offered at most while someone types a mention.
pub const SUGGESTIONS_MAX: usize = 6;

/// The mention being typed at the end of `text`: where its `@` is (a byte index) and what follows
/// it. An `@` counts at the start or after a space, with at most 30 characters, no line break and
/// at most two spaces after it (names have spaces).
pub fn typing_mention(text: &str) -> Option<(usize, &str)> {
    let at = text.rfind('@')?;
    let before_ok = text[..at]
        .chars()
        .next_back()
        .is_none_or(char::is_whitespace);
    let query = &text[at + 1..];
    let ok = before_ok
        && query.chars().count() <= 30
        && !query.contains('\n')
        && query.matches(' ').count() <= 2;
    ok.then_some((at, query))
}

/// The members whose name starts with `query` (any case; every word of the name counts, so "sou"
/// finds "Ana Souza"), names starting with it first, at most [`SUGGESTIONS_MAX`].
pub fn suggestions<'a>(query: &str, members: &'a [Author]) -> Vec<&'a Author> {
    let q = query.trim_start().to_lowercase();
    let mut found: Vec<(bool, &Author)> = members
        .iter()
        .filter_map(|m| {
            let name = m.display_name.to_lowercase();
            if name.starts_with(&q) {
                Some((true, m))
            } else if name.split_whitespace().any(|w| w.starts_with(&q)) {
                Some((false, m))
            } else {
                None
            }
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.display_name.cmp(&b.1.display_name)));
    found
        .into_iter()
        .take(SUGGESTIONS_MAX)
        .map(|(_, m)| m)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> Vec<Author> {
        [(1, "Ana"), (2, "Ana Souza"), (3, "Ben Carter"), (4, "Ünal")]
            .into_iter()
            .map(|(id, n)| Author {
                id,
                display_name: n.into(),
            })
            .collect()
    }

    #[test]
    fn a_mention_is_the_longest_name_after_an_at() {
        let p = people();
        assert_eq!(mentioned("hi @ana souza and @BEN CARTER!", &p), [2, 3]);
        assert_eq!(mentioned("@Ana, look", &p), [1]);
        assert_eq!(mentioned("@ünal @Ünal", &p), [4], "once, any case");
        assert!(mentioned("@Anastasia and ana@example.com and @Ben", &p).is_empty());
    }

    #[test]
    fn the_mention_being_typed_is_found_and_offered() {
        assert_eq!(typing_mention("hi @an"), Some((3, "an")));
        assert_eq!(typing_mention("@"), Some((0, "")));
        assert_eq!(typing_mention("mail ana@exa"), None, "inside a word");
        assert_eq!(typing_mention("@ana\nnext"), None);
        let p = people();
        let names = |q| {
            suggestions(q, &p)
                .into_iter()
                .map(|a| a.display_name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(names("an"), ["Ana", "Ana Souza"]);
        assert_eq!(names("sou"), ["Ana Souza"]);
        assert_eq!(names("ÜN"), ["Ünal"]);
        assert_eq!(names("").len(), 4);
    }
}
