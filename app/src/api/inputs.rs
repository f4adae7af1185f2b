//! The body each server function decodes, by path. The server refuses any other content type before
//! server_fn decodes: server_fn itself reads whatever arrives (a JSON body as a form with one odd key,
//! `text/plain` as a form), and its registry knows only paths and methods, not encodings.
//!
//! `server/tests/malformed.rs` fails if a registered server function is missing here.

use leptos::server_fn::{ContentType, Http, ServerFn};

/// The input encoding of a server function's protocol (`Http<Input, Output>`, as `#[server]` makes).
trait InputEncoding {
    const CONTENT_TYPE: &'static str;
}

impl<I: ContentType, O> InputEncoding for Http<I, O> {
    const CONTENT_TYPE: &'static str = I::CONTENT_TYPE;
}

macro_rules! inputs {
    ($($f:ty),* $(,)?) => {
        vec![$((
            <$f as ServerFn>::PATH,
            <<$f as ServerFn>::Protocol as InputEncoding>::CONTENT_TYPE,
        )),*]
    };
}

/// `(path, content type)` of every server function.
pub fn content_types() -> Vec<(&'static str, &'static str)> {
    use super::chat::*;
    use super::groups::*;
    use super::inbox::*;
    use super::leaderboard::*;
    use super::learning::*;
    use super::*;
    inputs![
        CurrentUser,
        Login,
        Register,
        Logout,
        LoadOverview,
        UpdateProfile,
        ChangePassword,
        MySessions,
        RevokeSession,
        TimeZones,
        AdminUsers,
        AdminOptions,
        AdminCreateUser,
        AdminChangeUser,
        AdminCreateCohort,
        LatestAnnouncements,
        PostAnnouncement,
        LoadInbox,
        NotificationsPage,
        MarkSeen,
        MarkRead,
        DeleteNotifications,
        SavePreferences,
        SendNotification,
        ApiTokens,
        CreateApiToken,
        RevokeApiToken,
        AddressableCohorts,
        AddressablePeople,
        RecentSignIns,
        EditAnnouncement,
        DeleteAnnouncement,
        LoadStudentDashboard,
        MentorRows,
        LoadSystemFigures,
        LoadLearning,
        LoadSessions,
        SaveSession,
        DeleteLearningItem,
        SetGoal,
        EditGoal,
        CompleteGoal,
        AddSkill,
        LoadFeed,
        MarkActivities,
        ChatRooms,
        ChatRoom,
        ChatHistory,
        ChatSend,
        ChatEdit,
        ChatDelete,
        ChatReact,
        ChatRead,
        ChatDirect,
        ChatSearch,
        ChatMute,
        ChatGroups,
        ChatGroup,
        CreateGroup,
        JoinGroup,
        DeclineGroup,
        InviteToGroup,
        InvitableToGroup,
        HandOverGroup,
        ArchiveGroup,
        LeaveRoom,
        RemoveFromRoom,
        LeaderboardChoices,
        LeaderboardBoard,
        LeaderboardHidden,
        HideOnLeaderboard,
    ]
}
