//! The sections every part of ordersync shares, read with a
//! [`SectionReader`]: `[daemon]`, `[inventory]`, `[retry]`, `[invoice]` and
//! `[alerts]` (`[inventory]` and `[retry]` are in [`super::reader`]). Each
//! provider's section is read in its channel (`providers/<name>/config.rs`).

mod alerts;
mod carrier_files;
mod daemon;
mod invoice;

pub use carrier_files::{CarrierFilesConfig, RawCarrierFiles};

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use reqwest::Url;

use super::raw::{RawDaemon, RawInvoice};
use super::reader::{NON_ZERO, SectionReader, conflicts, minutes};
use super::{ConfigError, DaemonConfig, InvoiceConfig};

type Result<T> = std::result::Result<T, ConfigError>;

/// The invoice numbers' prefix when the file does not give one.
const INVOICE_NUMBER_PREFIX: &str = "INV-";
