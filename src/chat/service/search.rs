//! Searching messages by their words across the rooms the caller belongs to (archived ones too),
//! newest first, deleted ones never. The match itself is the backend's full-text index
//! (`Backend::message_search`).

use super::*;
use crate::chat::search::{excerpt, query_words, SearchHit, SearchResults, HITS_MAX};
use crate::server::db::Db;

#[derive(sqlx::FromRow)]
struct HitRow {
    id: i64,
    room_id: i64,
    author_id: Option<i64>,
    author_name: Option<String>,
    body: String,
    created_at: i64,
}

/// The caller's messages matching every word of `query` (each as a word or its start), newest
/// first, at most [`HITS_MAX`]; with `before`, only older ones (the next page).
pub async fn search(
    db: &Db,
    caller: &Caller,
    query: &str,
    before: Option<MessageId>,
) -> Result<SearchResults, AppError> {
    let me = person(caller)?;
    let words = query_words(query).map_err(|e| AppError::Validation { fields: vec![e] })?;
    let backend = db.backend();
    let (from, matching, newest_first) = backend.message_search(2, 3);
    let sql = format!(
        "SELECT m.id, m.room_id, m.author_id, a.display_name AS author_name, m.body, m.created_at \
         FROM {from} JOIN chat_members cm ON cm.room_id = m.room_id AND cm.user_id = $1 \
         LEFT JOIN users a ON a.id = m.author_id \
         WHERE m.deleted_at IS NULL AND {matching} ORDER BY {newest_first} LIMIT {HITS_MAX}"
    );
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    let rows: Vec<HitRow> = with_conn!(&mut conn, c => sqlx::query_as(&sql)
        .bind(me.id).bind(backend.search_terms(&words)).bind(before.unwrap_or(i64::MAX))
        .fetch_all(&mut *c).await.map_err(internal)?);
    if rows.is_empty() {
        return Ok(SearchResults {
            words,
            hits: Vec::new(),
        });
    }
    // Rooms named as the caller's list names them (a direct room after the other person), read
    // without the list's unread counts, which cost more than the search itself.
    let named: Vec<(i64, String, String, Option<String>)> = with_conn!(&mut conn, c => sqlx::query_as(
        "SELECT r.id, r.kind, r.name, p.display_name FROM chat_members cm JOIN chat_rooms r ON r.id = cm.room_id \
         LEFT JOIN chat_members pm ON r.kind = 'direct' AND pm.room_id = r.id AND pm.user_id <> cm.user_id \
         LEFT JOIN users p ON p.id = pm.user_id WHERE cm.user_id = $1")
        .bind(me.id).fetch_all(&mut *c).await.map_err(internal)?);
    let rooms: HashMap<RoomId, (String, RoomKind)> = named
        .into_iter()
        .map(|(id, kind, name, peer)| {
            let kind = RoomKind::parse(&kind).unwrap_or(RoomKind::Channel);
            let name = match (kind, peer) {
                (RoomKind::Direct, Some(peer)) => peer,
                _ => name,
            };
            (id, (name, kind))
        })
        .collect();
    let hits = rows
        .into_iter()
        .filter_map(|r| {
            let (room_name, room_kind) = rooms.get(&r.room_id)?.clone();
            Some(SearchHit {
                room_id: r.room_id,
                room_name,
                room_kind,
                message_id: r.id,
                author: r.author_id.map(|id| Author {
                    id,
                    display_name: r.author_name.unwrap_or_default(),
                }),
                excerpt: excerpt(&r.body, &words),
                created_at: r.created_at,
            })
        })
        .collect();
    Ok(SearchResults { words, hits })
}
