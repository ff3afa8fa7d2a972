//! Why a model says what it says: per-row and global [`explain`]ations (TreeSHAP, what-if) and
//! customer [`segment`]s.
pub mod explain;
pub mod segment;
