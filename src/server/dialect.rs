//! Every SQL difference between SQLite and PostgreSQL, as small named helpers on [`Backend`].
//!
//! The rest of the code writes one SQL text for both backends and asks here for the few fragments that
//! differ (`db.backend().least(..)`), so no query patches another's text. A new difference (full-text
//! search, time arithmetic) becomes one more helper here, with its test.

pub use crate::server::db::Backend;

/// A parameter's SQL type, for the casts PostgreSQL needs where a parameter's type cannot be inferred
/// (`$1 IS NULL`); SQLite has no casts and needs none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Text,
    BigInt,
}

impl Backend {
    /// The smaller of two values: `MIN(a, b)` on SQLite (its scalar form), `LEAST(a, b)` on PostgreSQL.
    pub fn least(self, a: &str, b: &str) -> String {
        match self {
            Backend::Sqlite => format!("MIN({a}, {b})"),
            Backend::Postgres => format!("LEAST({a}, {b})"),
        }
    }

    /// The integer values of `expr` over a group, comma-separated (`NULL` for no rows).
    pub fn comma_list(self, expr: &str) -> String {
        match self {
            Backend::Sqlite => format!("group_concat({expr}, ',')"),
            Backend::Postgres => format!("string_agg({expr}::text, ',')"),
        }
    }

    /// Parameter `$n`, typed where PostgreSQL needs the type.
    pub fn param(self, n: u8, ty: ParamType) -> String {
        match (self, ty) {
            (Backend::Sqlite, _) => format!("${n}"),
            (Backend::Postgres, ParamType::Text) => format!("${n}::text"),
            (Backend::Postgres, ParamType::BigInt) => format!("${n}::bigint"),
        }
    }

    /// `column` in a form the planner will not use an index for. SQLite's planner would sometimes
    /// rather walk a whole index in `column`'s order to group without sorting; a unary `+` stops
    /// it. PostgreSQL has no unary `+` on text and needs no hint.
    pub fn unindexed(self, column: &str) -> String {
        match self {
            Backend::Sqlite => format!("+{column}"),
            Backend::Postgres => column.to_string(),
        }
    }

    /// Where a search reads `chat_messages m` from: the messages holding every one of the words in
    /// parameter `$terms` (each as a word or a word's start; bind [`Backend::search_terms`]) with an
    /// id below parameter `$before`, as (FROM, WHERE, ORDER BY) for newest first.
    ///
    /// SQLite: the FTS5 index drives the join (`CROSS JOIN` keeps that order) and yields its rowids
    /// newest first, so `LIMIT` stops after the first page instead of collecting every match (a
    /// common word in a million messages took seconds as an `IN (…)` subquery). PostgreSQL: the
    /// GIN-indexed condition on the table; its planner chooses between the index and a backward
    /// walk of the primary key.
    pub fn message_search(self, terms: u8, before: u8) -> (String, String, String) {
        match self {
            Backend::Sqlite => (
                "chat_messages_fts f CROSS JOIN chat_messages m ON m.id = f.rowid".into(),
                format!("chat_messages_fts MATCH ${terms} AND f.rowid < ${before}"),
                "f.rowid DESC".into(),
            ),
            Backend::Postgres => (
                "chat_messages m".into(),
                format!("m.search @@ to_tsquery('simple', ${terms}) AND m.id < ${before}"),
                "m.id DESC".into(),
            ),
        }
    }

    /// The query text for [`Backend::message_search`]: every word required, each as a prefix. The
    /// words must be letters and digits only (`chat::search::query_words` makes them so), which
    /// neither query syntax reads as an operator.
    pub fn search_terms(self, words: &[String]) -> String {
        match self {
            Backend::Sqlite => words
                .iter()
                .map(|w| format!("\"{w}\"*"))
                .collect::<Vec<_>>()
                .join(" "),
            Backend::Postgres => words
                .iter()
                .map(|w| format!("{w}:*"))
                .collect::<Vec<_>>()
                .join(" & "),
        }
    }

    /// The suffix that locks the selected rows until the transaction ends. SQLite needs none: a write
    /// transaction (`BEGIN IMMEDIATE`, as `Db::begin` starts them) already holds the only write lock.
    pub fn for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_are_prefixes_all_required() {
        let words = vec!["borrow".to_string(), "déjà".to_string()];
        assert_eq!(Backend::Sqlite.search_terms(&words), r#""borrow"* "déjà"*"#);
        assert_eq!(Backend::Postgres.search_terms(&words), "borrow:* & déjà:*");
        let (_, sqlite, _) = Backend::Sqlite.message_search(2, 3);
        assert!(sqlite.contains("MATCH $2") && sqlite.contains("f.rowid < $3"));
        let (_, pg, _) = Backend::Postgres.message_search(2, 3);
        assert!(pg.contains("to_tsquery('simple', $2)") && pg.contains("m.id < $3"));
    }

    #[test]
    fn a_planner_hint_only_where_sqlite_needs_it() {
        assert_eq!(Backend::Sqlite.unindexed("topic"), "+topic");
        assert_eq!(Backend::Postgres.unindexed("topic"), "topic");
    }

    #[test]
    fn each_backend_gets_its_own_fragment() {
        assert_eq!(
            Backend::Sqlite.least("$3", "expires_at"),
            "MIN($3, expires_at)"
        );
        assert_eq!(
            Backend::Postgres.least("$3", "expires_at"),
            "LEAST($3, expires_at)"
        );
        assert_eq!(
            Backend::Sqlite.comma_list("m.id"),
            "group_concat(m.id, ',')"
        );
        assert_eq!(
            Backend::Postgres.comma_list("m.id"),
            "string_agg(m.id::text, ',')"
        );
        assert_eq!(Backend::Sqlite.param(2, ParamType::Text), "$2");
        assert_eq!(Backend::Postgres.param(2, ParamType::Text), "$2::text");
        assert_eq!(Backend::Postgres.param(3, ParamType::BigInt), "$3::bigint");
        assert_eq!(Backend::Sqlite.for_update(), "");
        assert_eq!(Backend::Postgres.for_update(), " FOR UPDATE");
    }
}
