//! `@mentions`: which members a message names. A mention is `@` followed by a member's display name
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
}
