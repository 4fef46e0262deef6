//! Mojibake repair (being written).
