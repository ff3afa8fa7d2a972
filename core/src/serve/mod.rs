//! What a trained model carries into production: the [`artifact`] (one validated JSON file), the
//! [`scorer`] that turns raw records (read in one pass by [`record`]) into probabilities with the
//! artifact's own pipeline, and the [`drift`] reference sketches of the training data that monitoring compares with; [`validate`]
//! is what every load checks before anything is used.
pub mod artifact;
pub mod drift;
pub mod record;
pub mod scorer;
pub mod validate;
