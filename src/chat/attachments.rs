//! Files attached to chat messages as clients see them: the kinds accepted (decided from the bytes,
//! never the name), the limits, the name a file keeps, and how a size reads. Storing and serving them
//! is the service's (`service::attachments`) over a [`crate::server::storage::BlobStore`].

use crate::chat::{MessageId, RoomId};
use serde::{Deserialize, Serialize};

pub type AttachmentId = i64;

/// The default largest file, in bytes (the server's `STUDYHALL_ATTACHMENT_MAX_BYTES` changes it).
pub const ATTACHMENT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Files one message may carry.
pub const ATTACHMENTS_PER_MESSAGE: usize = 4;
/// Files a user may have uploaded and not yet sent (a composer's pending files), over all rooms.
pub const UNSENT_ATTACHMENTS_MAX: i64 = 20;
/// An uploaded file never sent in a message is removed after this long.
pub const UNSENT_ATTACHMENT_TTL_MS: i64 = 24 * 3600 * 1000;
/// Longest file name kept, in characters.
pub const ATTACHMENT_NAME_MAX: usize = 120;

/// What a file is, read from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttachmentKind {
    Png,
    Jpeg,
    Webp,
    Gif,
    Pdf,
}

impl AttachmentKind {
    pub const ALL: [AttachmentKind; 5] = [
        AttachmentKind::Png,
        AttachmentKind::Jpeg,
        AttachmentKind::Webp,
        AttachmentKind::Gif,
        AttachmentKind::Pdf,
    ];

    pub fn mime(self) -> &'static str {
        match self {
            AttachmentKind::Png => "image/png",
            AttachmentKind::Jpeg => "image/jpeg",
            AttachmentKind::Webp => "image/webp",
            AttachmentKind::Gif => "image/gif",
            AttachmentKind::Pdf => "application/pdf",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.mime() == mime)
    }

    /// Images are shown in the conversation; other files are offered to download.
    pub fn is_image(self) -> bool {
        self != AttachmentKind::Pdf
    }

    /// The `accept` list of a file picker.
    pub fn accept_list() -> String {
        Self::ALL.map(|k| k.mime()).join(",")
    }
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub room_id: RoomId,
    /// The message it was sent with; `None` while it waits in the uploader's composer.
    pub message_id: Option<MessageId>,
    /// The name it was uploaded with, cleaned ([`clean_name`]).
    pub name: String,
    /// One of [`AttachmentKind`]'s types.
    pub mime: String,
    pub size_bytes: i64,
    /// In pixels, for images.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub created_at: i64,
}

impl Attachment {
    /// Where members fetch it.
    pub fn url(&self) -> String {
        attachment_url(self.room_id, self.id)
    }

    pub fn kind(&self) -> Option<AttachmentKind> {
        AttachmentKind::from_mime(&self.mime)
    }

    pub fn is_image(&self) -> bool {
        self.kind().is_some_and(AttachmentKind::is_image)
    }

    /// "1.2 MB", or "1.2 MB · 800 × 600" for an image.
    pub fn caption(&self) -> String {
        match (self.width, self.height) {
            (Some(w), Some(h)) => format!("{} · {w} × {h}", format_size(self.size_bytes)),
            _ => format_size(self.size_bytes),
        }
    }
}

/// The path of attachment `id` of `room`.
pub fn attachment_url(room: RoomId, id: AttachmentId) -> String {
    format!("/api/v1/rooms/{room}/attachments/{id}")
}

/// The name a file keeps: its last path segment, without control characters or quotes, at most
/// [`ATTACHMENT_NAME_MAX`] characters (the extension kept), "attachment" when nothing is left.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return "attachment".into();
    }
    if cleaned.chars().count() <= ATTACHMENT_NAME_MAX {
        return cleaned.to_string();
    }
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if ext.chars().count() <= 8 => (stem, format!(".{ext}")),
        _ => (cleaned, String::new()),
    };
    let keep = ATTACHMENT_NAME_MAX - ext.chars().count() - 1;
    format!("{}…{ext}", stem.chars().take(keep).collect::<String>())
}

/// A byte count as people read it: "512 B", "24 KB", "1.2 MB" (powers of 1,024).
pub fn format_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes.max(0) as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.0} KB", (b / KB).max(1.0))
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_and_length_but_keep_their_extension() {
        assert_eq!(clean_name("C:\\Users\\ana\\notes.pdf"), "notes.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\"b<c>\n.png"), "abc.png");
        assert_eq!(clean_name("   "), "attachment");
        assert_eq!(clean_name(".hidden"), "hidden");
        let long = clean_name(&format!("{}.jpeg", "x".repeat(300)));
        assert_eq!(long.chars().count(), ATTACHMENT_NAME_MAX);
        assert!(long.ends_with("….jpeg"), "{long}");
    }

    #[test]
    fn sizes_read_in_units() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1023), "1023 B");
        assert_eq!(format_size(24 * 1024), "24 KB");
        assert_eq!(format_size(1_258_291), "1.2 MB");
    }

    #[test]
    fn kinds_map_to_their_types_and_images_get_dimensions_in_the_caption() {
        for k in AttachmentKind::ALL {
            assert_eq!(AttachmentKind::from_mime(k.mime()), Some(k));
        }
        assert!(!AttachmentKind::Pdf.is_image());
        let a = Attachment {
            id: 1,
            room_id: 2,
            message_id: None,
            name: "a.png".into(),
            mime: "image/png".into(),
            size_bytes: 2048,
            width: Some(800),
            height: Some(600),
            created_at: 0,
        };
        assert_eq!(a.caption(), "2 KB · 800 × 600");
        assert_eq!(a.url(), "/api/v1/rooms/2/attachments/1");
        assert!(a.is_image());
    }
}
