//! The format's trait answers (being written by the lead).
