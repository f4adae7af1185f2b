//! The leaderboard's service: one node's boards in memory (built from the learning log on first view,
//! then kept up to date student by student as their learning changes), read for a viewer with the
//! ranking and naming rules, and who may read which board. `points.rs` sums a period's points.

pub mod points;

use super::periods::{self, zone};
use super::standings::{MemoryStandings, Moved, Standings};
use super::{Board, Period, Scope, Standing, Which, AROUND, HIDDEN_NAME, MAX_LIMIT};
use crate::accounts::{cohorts, users};
use crate::model::{Millis, Role, User, UserId};
use crate::server::db::{fetch_in, internal, Db};
use crate::{with_db, AppError};
use points::Span;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One board: a scope, a period, and which instance of it (its span).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BoardKey {
    pub scope: Scope,
    pub period: Period,
    pub span: Span,
}

type Shared = Arc<Mutex<MemoryStandings>>;

/// A node's boards.
#[derive(Default)]
pub struct Leaderboards {
    boards: Mutex<HashMap<BoardKey, Shared>>,
    /// Counts students' refreshes: a board built while one ran is built again.
    changes: AtomicU64,
}

impl std::fmt::Debug for Leaderboards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let boards = self.boards.lock().unwrap_or_else(|e| e.into_inner()).len();
        f.debug_struct("Leaderboards")
            .field("boards", &boards)
            .finish()
    }
}

/// A scope's name and the zone its periods are cut in; `NotFound` for a cohort that does not exist.
pub async fn scope_info(db: &Db, scope: Scope) -> Result<(String, String), AppError> {
    let found: Option<(String, String)> = match scope {
        Scope::Global => with_db!(db, pool => sqlx::query_as(
            "SELECT name, time_zone FROM school WHERE id = 1").fetch_optional(pool).await),
        Scope::Cohort(id) => with_db!(db, pool => sqlx::query_as(
            "SELECT name, time_zone FROM cohorts WHERE id = $1").bind(id).fetch_optional(pool).await),
    }
    .map_err(internal)?;
    found.ok_or_else(|| AppError::not_found("That cohort"))
}

/// Whether `viewer` may read `scope`'s boards: the school's, anyone signed in; a cohort's, its
/// students, the mentors of any of them, and admins.
pub async fn may_view(db: &Db, viewer: &User, scope: Scope) -> Result<bool, AppError> {
    let Scope::Cohort(cohort) = scope else {
        return Ok(true);
    };
    Ok(match viewer.role {
        Role::Admin => true,
        Role::Student => viewer.cohort_id == Some(cohort),
        Role::Mentor => cohorts::mentored_by(db, viewer.id)
            .await?
            .iter()
            .any(|c| c.id == cohort),
    })
}

/// The boards `viewer` may open: the school's, and their cohort's (a student), the cohorts of their
/// students (a mentor), or every cohort (an admin).
pub async fn choices(db: &Db, viewer: &User) -> Result<super::BoardChoices, AppError> {
    let (name, time_zone) = scope_info(db, Scope::Global).await?;
    let mut scopes = vec![super::ScopeChoice {
        scope: Scope::Global,
        name,
        time_zone,
    }];
    let cohorts: Vec<crate::model::CohortId> = match viewer.role {
        Role::Admin => cohorts::list(db).await?.into_iter().map(|c| c.id).collect(),
        Role::Mentor => cohorts::mentored_by(db, viewer.id)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect(),
        Role::Student => viewer.cohort_id.into_iter().collect(),
    };
    for id in cohorts {
        let (name, time_zone) = scope_info(db, Scope::Cohort(id)).await?;
        scopes.push(super::ScopeChoice {
            scope: Scope::Cohort(id),
            name,
            time_zone,
        });
    }
    scopes[1..].sort_by_key(|s| s.name.to_lowercase());
    Ok(super::BoardChoices {
        scopes,
        how_points_work: super::HOW_POINTS_WORK.to_string(),
    })
}

impl Leaderboards {
    /// The board of `key`, built from the log if this node has not got it yet.
    async fn standings(&self, db: &Db, key: BoardKey) -> Result<Shared, AppError> {
        if let Some(board) = self.lock().get(&key) {
            return Ok(board.clone());
        }
        // A student refreshed while the sums were read may be missing from them: read again.
        let mut built = None;
        for _ in 0..5 {
            let before = self.changes.load(Ordering::Acquire);
            let sums = points::of_scope(db, key.scope, key.span).await?;
            built = Some(MemoryStandings::from_points(sums));
            if self.changes.load(Ordering::Acquire) == before {
                break;
            }
        }
        let built = Arc::new(Mutex::new(built.expect("read at least once")));
        let mut boards = self.lock();
        let board = boards.entry(key).or_insert(built).clone();
        // Two instances of each board are kept (this period's and the last one's).
        let mut starts: Vec<Option<Millis>> = boards
            .keys()
            .filter(|k| k.scope == key.scope && k.period == key.period)
            .map(|k| k.span.0)
            .collect();
        if starts.len() > 2 {
            starts.sort_unstable();
            let oldest = starts[starts.len() - 3];
            boards.retain(|k, _| {
                !(k.scope == key.scope && k.period == key.period && k.span.0 <= oldest)
            });
        }
        Ok(board)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BoardKey, Shared>> {
        self.boards.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-reads `user`'s points on every board this node holds (after their learning changed, or their
    /// role, cohort or account did): what moved, board by board.
    pub async fn refresh(&self, db: &Db, user: UserId) -> Result<Vec<(BoardKey, Moved)>, AppError> {
        self.changes.fetch_add(1, Ordering::AcqRel);
        let held: Vec<(BoardKey, Shared)> =
            self.lock().iter().map(|(k, b)| (*k, b.clone())).collect();
        // No board viewed on this node yet: nothing to keep in step (no query per event).
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let found = users::find(db, user).await?;
        let mut moved = Vec::new();
        let mut sums: HashMap<Span, i64> = HashMap::new();
        for (key, board) in held {
            let ranked = found.as_ref().is_some_and(|u| {
                u.role == Role::Student
                    && !u.disabled
                    && match key.scope {
                        Scope::Global => true,
                        Scope::Cohort(c) => u.cohort_id == Some(c),
                    }
            });
            let points = if ranked {
                match sums.get(&key.span) {
                    Some(p) => *p,
                    None => {
                        let p = points::of_user(db, user, key.span).await?;
                        sums.insert(key.span, p);
                        p
                    }
                }
            } else {
                0
            };
            let change = board
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .set(user, points);
            if let Some(change) = change {
                moved.push((key, change));
            }
        }
        Ok(moved)
    }

    /// The board of `scope` and `period` as `viewer` sees it: `limit` rows from `offset`, the viewer's
    /// row and those around it. `NotFound` for a cohort that does not exist or that the viewer may not
    /// see; a limit beyond [`MAX_LIMIT`] is refused.
    #[allow(clippy::too_many_arguments)]
    pub async fn board(
        &self,
        db: &Db,
        viewer: &User,
        scope: Scope,
        period: Period,
        which: Which,
        offset: usize,
        limit: usize,
        now: Millis,
    ) -> Result<Board, AppError> {
        if limit == 0 || limit > MAX_LIMIT {
            return Err(AppError::validation(
                "limit",
                &format!("Ask for 1 to {MAX_LIMIT} rows."),
            ));
        }
        if offset > 1_000_000 {
            return Err(AppError::validation(
                "offset",
                "That is past the end of any board.",
            ));
        }
        let (scope_name, time_zone) = scope_info(db, scope).await?;
        if !may_view(db, viewer, scope).await? {
            return Err(AppError::not_found("That cohort"));
        }
        let span = periods::bounds(period, which, zone(&time_zone), now);
        let key = BoardKey {
            scope,
            period,
            span,
        };
        let board = self.standings(db, key).await?;
        let (ranked, rows, me, around) = {
            let b = board.lock().unwrap_or_else(|e| e.into_inner());
            let rows = b.page(offset, limit);
            let me = b
                .rank(viewer.id)
                .map(|rank| (viewer.id, b.points(viewer.id).unwrap_or(0), rank));
            let around = match b.index_of(viewer.id) {
                Some(i) => b.page(i.saturating_sub(AROUND), AROUND * 2 + 1),
                None => Vec::new(),
            };
            (b.len() as u32, rows, me, around)
        };
        let shown: Vec<UserId> = rows
            .iter()
            .chain(around.iter())
            .map(|(u, ..)| *u)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let names = Names::load(db, viewer, &shown).await?;
        let row =
            |(user, points, rank): (UserId, i64, u32)| names.standing(viewer, user, points, rank);
        Ok(Board {
            scope,
            scope_name,
            period,
            which,
            time_zone,
            starts_at: span.0,
            ends_at: span.1,
            ranked,
            rows: rows.into_iter().map(row).collect(),
            offset: offset as u32,
            me: me.map(row),
            around_me: around.into_iter().map(row).collect(),
        })
    }
}

/// The names a viewer may see: a student who hides theirs is "A student" to other students, and
/// named to themselves, their mentors and admins.
struct Names {
    names: HashMap<UserId, (String, bool)>,
    mentees: HashSet<UserId>,
}

impl Names {
    async fn load(db: &Db, viewer: &User, users: &[UserId]) -> Result<Names, AppError> {
        let rows: Vec<(i64, String, bool)> = fetch_in(db, users, |list| {
            format!("SELECT id, display_name, leaderboard_hidden FROM users WHERE id IN ({list})")
        })
        .await?;
        let mentees = match viewer.role {
            Role::Mentor => users::students_of(db, viewer.id)
                .await?
                .into_iter()
                .collect(),
            _ => HashSet::new(),
        };
        Ok(Names {
            names: rows.into_iter().map(|(id, n, h)| (id, (n, h))).collect(),
            mentees,
        })
    }

    fn standing(&self, viewer: &User, user: UserId, points: i64, rank: u32) -> Standing {
        let (name, hidden) = self
            .names
            .get(&user)
            .cloned()
            .unwrap_or_else(|| (HIDDEN_NAME.to_string(), true));
        let named = !hidden
            || user == viewer.id
            || viewer.role == Role::Admin
            || self.mentees.contains(&user);
        Standing {
            rank,
            user_id: named.then_some(user),
            name: if named { name } else { HIDDEN_NAME.to_string() },
            points,
            me: user == viewer.id,
        }
    }
}

/// Keeps this node's boards in step until `stop`: every durable event on a user's own topic (their
/// learning, their account, on any node) re-reads that user's points once it has committed. Events
/// that arrive together are read once per user. What moved on a board of the current period reaches
/// this node's viewers of it as one `leaderboard.moved` frame per board every [`MOVES_EVERY_MS`] at
/// most, never the whole list.
///
/// [`MOVES_EVERY_MS`]: super::MOVES_EVERY_MS
pub async fn keep_up(
    services: crate::server::web::Services,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<UserId>();
    services.hub.observe(Arc::new(move |topic, _| {
        if let crate::protocol::Topic::User(id) = topic {
            let _ = tx.send(id);
        }
    }));
    let db = services.accounts.db().clone();
    let mut pending: HashMap<(Scope, Period), Vec<Moved>> = HashMap::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(super::MOVES_EVERY_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            id = rx.recv() => match id {
                Some(id) => id,
                None => return,
            },
            _ = tick.tick() => {
                if !pending.is_empty() {
                    tell_moves(&services, &db, std::mem::take(&mut pending)).await;
                }
                continue;
            }
            _ = stop.changed() => return,
        };
        let mut batch = HashSet::from([first]);
        while let Ok(id) = rx.try_recv() {
            batch.insert(id);
        }
        let now = crate::server::now_ms();
        for user in batch {
            match services.leaderboards().refresh(&db, user).await {
                Ok(moved) => {
                    for (key, m) in moved {
                        let current = key.span.0.is_none_or(|s| s <= now)
                            && key.span.1.is_none_or(|e| now < e);
                        if current {
                            pending.entry((key.scope, key.period)).or_default().push(m);
                        }
                    }
                }
                Err(e) => e.log_if_internal(),
            }
        }
    }
}

/// Sends each board's moves to this node's viewers of it (the last move of each student wins).
async fn tell_moves(
    services: &crate::server::web::Services,
    db: &Db,
    pending: HashMap<(Scope, Period), Vec<Moved>>,
) {
    let users: Vec<UserId> = pending
        .values()
        .flatten()
        .map(|m| m.user)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let names: HashMap<UserId, (String, bool)> =
        match fetch_in::<(i64, String, bool), _>(db, &users, |list| {
            format!("SELECT id, display_name, leaderboard_hidden FROM users WHERE id IN ({list})")
        })
        .await
        {
            Ok(rows) => rows.into_iter().map(|(id, n, h)| (id, (n, h))).collect(),
            Err(e) => {
                e.log_if_internal();
                return;
            }
        };
    for ((scope, period), moves) in pending {
        // A student moved twice in the interval: from their first rank to their last.
        let mut merged: Vec<Moved> = Vec::new();
        for m in moves {
            match merged.iter_mut().find(|x| x.user == m.user) {
                Some(x) => {
                    x.to = m.to;
                    x.points = m.points;
                    x.delta += m.delta;
                }
                None => merged.push(m),
            }
        }
        let ranked = services
            .leaderboards()
            .lock()
            .iter()
            .filter(|(k, _)| k.scope == scope && k.period == period)
            .max_by_key(|(k, _)| k.span.0)
            .map_or(0, |(_, b)| {
                b.lock().unwrap_or_else(|e| e.into_inner()).len() as u32
            });
        let moved = merged
            .into_iter()
            .map(|m| {
                let (name, hidden) = names.get(&m.user).cloned().unwrap_or_default();
                super::Move {
                    user_id: (!hidden).then_some(m.user),
                    name: (!hidden).then_some(name),
                    from: m.from,
                    to: m.to,
                    points: m.points,
                    delta: m.delta,
                }
            })
            .collect();
        let data = serde_json::to_value(super::Moves { moved, ranked }).unwrap_or_default();
        services.hub.send_local(
            crate::protocol::Topic::Leaderboard(period, scope),
            &crate::protocol::ServerMessage::Ephemeral {
                topic: crate::protocol::Topic::Leaderboard(period, scope),
                event: super::MOVED_EVENT.to_string(),
                user_id: 0,
                data,
            },
        );
    }
}

/// Whether `caller` hides their name from other students on the boards.
pub async fn hidden(db: &Db, caller: &User) -> Result<bool, AppError> {
    with_db!(db, pool => sqlx::query_scalar::<_, bool>(
        "SELECT leaderboard_hidden FROM users WHERE id = $1").bind(caller.id).fetch_one(pool).await)
    .map_err(internal)
}

/// Hides (or shows again) `caller`'s name from other students on the boards; their mentors and admins
/// always see it. Takes effect at the next read of a board.
pub async fn set_hidden(db: &Db, caller: &User, hide: bool) -> Result<bool, AppError> {
    with_db!(db, pool => sqlx::query("UPDATE users SET leaderboard_hidden = $2 WHERE id = $1")
        .bind(caller.id).bind(hide).execute(pool).await.map(|_| ()))
    .map_err(internal)?;
    Ok(hide)
}

/// Sets the school's name and the zone its board's weeks and months are cut in (admins).
pub async fn set_school(
    db: &Db,
    caller: &User,
    name: &str,
    time_zone: &str,
) -> Result<super::ScopeChoice, AppError> {
    if caller.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let name_ok = crate::validate::text("name", name, 80);
    let zone_ok = crate::accounts::service::time_zone(time_zone);
    crate::validate::collect([
        name_ok.as_ref().err().cloned(),
        zone_ok.as_ref().err().cloned(),
    ])?;
    let (name, zone) = (name_ok.unwrap_or_default(), zone_ok.unwrap_or_default());
    with_db!(db, pool => sqlx::query("UPDATE school SET name = $1, time_zone = $2 WHERE id = 1")
        .bind(&name).bind(&zone).execute(pool).await.map(|_| ()))
    .map_err(internal)?;
    Ok(super::ScopeChoice {
        scope: Scope::Global,
        name,
        time_zone: zone,
    })
}

/// Sets the zone a cohort's board is cut in (admins).
pub async fn set_cohort_zone(
    db: &Db,
    caller: &User,
    cohort: crate::model::CohortId,
    time_zone: &str,
) -> Result<super::ScopeChoice, AppError> {
    if caller.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let zone = crate::accounts::service::time_zone(time_zone)
        .map_err(|e| AppError::Validation { fields: vec![e] })?;
    let done = with_db!(db, pool => sqlx::query("UPDATE cohorts SET time_zone = $2 WHERE id = $1")
        .bind(cohort).bind(&zone).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)?;
    if done == 0 {
        return Err(AppError::not_found("That cohort"));
    }
    let (name, time_zone) = scope_info(db, Scope::Cohort(cohort)).await?;
    Ok(super::ScopeChoice {
        scope: Scope::Cohort(cohort),
        name,
        time_zone,
    })
}
