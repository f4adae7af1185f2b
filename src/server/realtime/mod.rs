//! The realtime hub's server side: the unit of work that writes and then publishes, the durable event
//! log, the hub that fans events out to local connections, the bus that carries them between nodes,
//! presence across nodes, and the catch-up that fills from the log what the bus missed.

pub mod bus;
pub mod catch_up;
pub mod change;
pub mod hub;
pub mod log;
pub mod mailbox;
pub mod presence;
pub mod principal;

pub use bus::{Bus, BusMessage, InProcessBus};
pub use change::Change;
pub use hub::{Hub, HubSettings};
pub use log::StoredEvent;
pub use mailbox::{LiveEvent, Outbound};
