//! What a user hears about: muted kinds, sound and desktop alerts.

use super::*;

pub async fn preferences(conn: &mut Conn<'_>, user: UserId) -> Result<Preferences, AppError> {
    let row: Option<(String, bool, bool)> = with_conn!(conn, c => sqlx::query_as(
        "SELECT muted_kinds, sound, desktop FROM notification_preferences WHERE user_id = $1")
        .bind(user).fetch_optional(&mut *c).await.map_err(internal)?);
    Ok(match row {
        None => Preferences::default(),
        Some((muted, sound, desktop)) => Preferences {
            muted: muted
                .split_whitespace()
                .filter_map(Kind::parse)
                .filter(|k| k.can_mute())
                .collect(),
            sound,
            desktop,
        },
    })
}

/// Saves the caller's preferences (system notifications cannot be muted).
pub async fn set_preferences(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    prefs: &Preferences,
) -> Result<Preferences, AppError> {
    let user = owner(caller)?;
    if prefs.muted.contains(&Kind::System) {
        return Err(AppError::validation(
            "muted",
            "System notifications cannot be muted.",
        ));
    }
    let mut muted = prefs.muted.clone();
    muted.sort();
    muted.dedup();
    let saved = Preferences {
        muted,
        sound: prefs.sound,
        desktop: prefs.desktop,
    };
    let text = saved
        .muted
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut change = Change::begin(db, hub).await?;
    change.lock(Topic::Inbox(user)).await?;
    with_tx!(change.tx(), c => sqlx::query(
        "INSERT INTO notification_preferences (user_id, muted_kinds, sound, desktop) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET muted_kinds = excluded.muted_kinds, sound = excluded.sound, \
         desktop = excluded.desktop")
        .bind(user).bind(&text).bind(saved.sound).bind(saved.desktop)
        .execute(&mut *c).await.map(|_| ()).map_err(internal)?);
    let what = InboxChange::Preferences {
        preferences: saved.clone(),
    };
    commit_change(change, user, what).await?;
    Ok(saved)
}
