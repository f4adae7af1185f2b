//! Study groups as the browser and REST see them: a group is a room of kind `group` with a public or
//! private listing, a member limit and an owner; private groups are joined by invitation. Behind the
//! `server` feature, `service::groups` keeps them.

use super::{Author, MemberRole, Room, RoomId};
use crate::error::FieldError;
use crate::model::Millis;
use serde::{Deserialize, Serialize};

/// The smallest member limit a group can have.
pub const GROUP_LIMIT_MIN: i64 = 2;
/// The largest member limit a group can have.
pub const GROUP_LIMIT_MAX: i64 = 50;
/// The limit a new group gets when none is chosen.
pub const GROUP_LIMIT_DEFAULT: i64 = 12;

/// What a client sends to create a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGroup {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Listed for everyone to join in one click; otherwise by invitation.
    pub public: bool,
    #[serde(default = "default_limit")]
    pub member_limit: i64,
}

fn default_limit() -> i64 {
    GROUP_LIMIT_DEFAULT
}

/// Where the caller stands with a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "standing", content = "role", rename_all = "snake_case")]
pub enum Standing {
    /// A member, with their role in the group's room.
    Member(MemberRole),
    /// Invited, not yet answered.
    Invited,
    /// Neither (a public group they could join).
    Outside,
}

/// A group as a list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub room: Room,
    pub public: bool,
    pub member_limit: i64,
    pub member_count: i64,
    pub owner: Option<Author>,
    pub standing: Standing,
}

impl GroupSummary {
    pub fn is_full(&self) -> bool {
        self.member_count >= self.member_limit
    }
}

/// The caller's groups, the invitations waiting for them, and the public groups they could join.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDirectory {
    pub mine: Vec<GroupSummary>,
    pub invitations: Vec<GroupSummary>,
    /// Public, not archived, and the caller is not in them; fullest last.
    pub open: Vec<GroupSummary>,
}

/// One member on a group's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMember {
    pub person: Author,
    pub role: MemberRole,
    pub joined_at: Millis,
}

/// A group's page: the group, its members (owner first), and for its moderators who is invited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub group: GroupSummary,
    pub members: Vec<GroupMember>,
    pub invited: Vec<Author>,
}

/// The payload of `chat.room.changed`: a room's name, description or archived state changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomChanged {
    pub room_id: RoomId,
    pub name: String,
    pub description: String,
    pub archived: bool,
}

impl RoomChanged {
    /// The room as it is after the change (a direct room's name is the peer's, and stays).
    pub fn apply_to(&self, room: &mut Room) {
        if room.kind != super::RoomKind::Direct {
            room.name = self.name.clone();
        }
        room.description = self.description.clone();
        room.archived = self.archived;
    }
}

/// Checks a member limit: [`GROUP_LIMIT_MIN`] to [`GROUP_LIMIT_MAX`].
pub fn validate_limit(limit: i64) -> Result<i64, FieldError> {
    if (GROUP_LIMIT_MIN..=GROUP_LIMIT_MAX).contains(&limit) {
        Ok(limit)
    } else {
        Err(FieldError::new(
            "member_limit",
            format!("A group has room for {GROUP_LIMIT_MIN} to {GROUP_LIMIT_MAX} members."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_two_to_fifty() {
        assert!(validate_limit(1).is_err());
        assert_eq!(validate_limit(2).unwrap(), 2);
        assert_eq!(validate_limit(50).unwrap(), 50);
        assert!(validate_limit(51).is_err());
    }

    #[test]
    fn standing_reads_back_what_it_writes() {
        for s in [
            Standing::Member(MemberRole::Owner),
            Standing::Invited,
            Standing::Outside,
        ] {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<Standing>(&json).unwrap(), s);
        }
        assert_eq!(
            serde_json::to_string(&Standing::Member(MemberRole::Owner)).unwrap(),
            r#"{"standing":"member","role":"owner"}"#
        );
    }
}
