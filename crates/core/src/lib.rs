//! Pure plan domain and analysis for taskman.
//!
//! This crate holds what a plan *is* (tasks, sections, dependencies, the claims a document
//! makes about itself) and what can be computed from it (progress, ready and blocked work,
//! cycles, the critical path, lint findings). It never touches IO: no files, no clock, no
//! database, no async runtime. Callers pass everything in, including "today".

pub mod analysis;
pub mod effort;
pub mod finding;
pub mod ids;
pub mod plan;
pub mod priority;
pub mod schedule;
pub mod status;
pub use analysis::Analysis;
pub mod lint;
pub mod matching;

pub use effort::Effort;
pub use finding::{Finding, Severity};
pub use plan::{
    Claim, ClaimKind, DepRef, Field, MatrixEntry, Plan, Section, SectionDep, StatusItem, Task,
    TaskKind,
};
pub use priority::Priority;
pub use status::{Declared, Status};
