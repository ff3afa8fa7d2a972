//! Data in: bytes to a typed, checked table. Ingest ([`ingest`]) parses CSV/JSON into a
//! [`table::Table`] of text cells; [`schema`] infers column types and roles; [`quality`] reports
//! what is wrong with the data; [`events`] turns an event log into per-customer features;
//! [`split`] builds the validation folds; [`synth`] generates seeded demo customers.
pub mod datetime;
pub mod events;
pub mod ingest;
pub mod quality;
pub mod schema;
pub mod split;
pub mod synth;
pub mod table;
