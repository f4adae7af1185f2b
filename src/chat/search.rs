//! Searching chat: what a query's words are, what a hit carries, and the excerpt a result shows with
//! its matching words marked. The index itself is each backend's (SQLite FTS5, PostgreSQL
//! full-text search; see `server::dialect`), searched only across the rooms the caller belongs to.

use super::{Author, MessageId, RoomId, RoomKind};
use crate::error::FieldError;
use crate::model::Millis;
use serde::{Deserialize, Serialize};

/// Most words a query uses (the rest are ignored).
pub const QUERY_WORDS_MAX: usize = 8;
/// Longest word kept (longer ones are cut).
pub const WORD_MAX: usize = 40;
/// Most results one search answers.
pub const HITS_MAX: i64 = 30;
/// Characters an excerpt shows on each side of the first match.
const EXCERPT_CONTEXT: usize = 60;

/// One message found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub room_id: RoomId,
    /// As the caller's room list names it (the other person, in a direct room).
    pub room_name: String,
    pub room_kind: RoomKind,
    pub message_id: MessageId,
    pub author: Option<Author>,
    /// The part of the message around its first match.
    pub excerpt: String,
    pub created_at: Millis,
}

/// What a search found, newest first, and the words it looked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub words: Vec<String>,
    pub hits: Vec<SearchHit>,
}

/// A query's words: runs of letters and digits, lower-cased, each once, at most
/// [`QUERY_WORDS_MAX`]. Everything else (quotes, operators, punctuation) only separates words, so
/// no query can be read as the index's own syntax. 422 when no word is left.
pub fn query_words(query: &str) -> Result<Vec<String>, FieldError> {
    let mut words: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        let word: String = word
            .chars()
            .take(WORD_MAX)
            .collect::<String>()
            .to_lowercase();
        if !word.is_empty() && !words.contains(&word) && words.len() < QUERY_WORDS_MAX {
            words.push(word);
        }
    }
    if words.is_empty() {
        Err(FieldError::new("q", "Type a word to search for."))
    } else {
        Ok(words)
    }
}

/// The part of `body` around the first place one of `words` starts a word, on character
/// boundaries, with an ellipsis where it is cut; the start of the text when none is found.
pub fn excerpt(body: &str, words: &[String]) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = flat.chars().collect();
    let at = first_match(&chars, words).unwrap_or(0);
    let start = at.saturating_sub(EXCERPT_CONTEXT);
    let end = (at + EXCERPT_CONTEXT * 2).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// `text` cut into runs, each marked whether it is a matching word's prefix (for highlighting).
pub fn highlight(text: &str, words: &[String]) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut runs: Vec<(String, bool)> = Vec::new();
    let mut push = |s: String, hit: bool| match runs.last_mut() {
        Some((last, h)) if *h == hit => last.push_str(&s),
        _ => runs.push((s, hit)),
    };
    let mut i = 0;
    while i < chars.len() {
        let starts_word = chars[i].is_alphanumeric() && (i == 0 || !chars[i - 1].is_alphanumeric());
        let len = if starts_word {
            matching_prefix(&chars[i..], words)
        } else {
            0
        };
        if len > 0 {
            push(chars[i..i + len].iter().collect(), true);
            i += len;
        } else {
            push(chars[i].to_string(), false);
            i += 1;
        }
    }
    runs
}

fn first_match(chars: &[char], words: &[String]) -> Option<usize> {
    (0..chars.len()).find(|&i| {
        chars[i].is_alphanumeric()
            && (i == 0 || !chars[i - 1].is_alphanumeric())
            && matching_prefix(&chars[i..], words) > 0
    })
}

/// How many characters at the start of `rest` one of `words` matches (case-insensitively), or 0.
fn matching_prefix(rest: &[char], words: &[String]) -> usize {
    words
        .iter()
        .filter_map(|w| {
            let n = w.chars().count();
            let candidate: String = rest.iter().take(n).collect();
            (rest.len() >= n && candidate.to_lowercase() == *w).then_some(n)
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_query_is_its_words_and_nothing_else() {
        assert_eq!(
            query_words(r#"  "Borrow" checker; OR borrow* NEAR(x)"#).unwrap(),
            w(&["borrow", "checker", "or", "near", "x"])
        );
        assert_eq!(
            query_words("Ünïcode déjà").unwrap(),
            w(&["ünïcode", "déjà"])
        );
        assert!(query_words(" \"*:&| ").is_err());
        let many = (0..20)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(query_words(&many).unwrap().len(), QUERY_WORDS_MAX);
    }

    #[test]
    fn an_excerpt_centres_on_the_first_match() {
        let body = format!(
            "{} the borrow checker {}",
            "a ".repeat(100),
            "z ".repeat(100)
        );
        let e = excerpt(&body, &w(&["borrow"]));
        assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
        assert!(e.contains("borrow checker"));
        assert_eq!(excerpt("short one", &w(&["none"])), "short one");
    }

    #[test]
    fn matches_are_marked_at_word_starts_only() {
        let runs = highlight("Borrowing, unborrow borrow", &w(&["borrow"]));
        assert_eq!(
            runs,
            vec![
                ("Borrow".to_string(), true),
                ("ing, unborrow ".to_string(), false),
                ("borrow".to_string(), true),
            ]
        );
    }
}
