//! QUOTA and QUOTAROOT responses (RFC 9208).

/// `STORAGE 10 512` in a QUOTA response (STORAGE is in units of 1024 octets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaResource {
    pub name: String,
    pub usage: u64,
    pub limit: u64,
}
