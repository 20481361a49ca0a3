//! The root crate's error: a one-line message and whether it was the caller's input or the
//! host that made the sandbox impossible (both exit 125 in the CLI).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad policy, arguments or workload: fix the input.
    BadInput,
    /// The host cannot provide what was asked (namespaces, cgroups, ...).
    Setup,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn bad_input(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::BadInput,
            message: one_line(message.into()),
        }
    }
    pub fn setup(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Setup,
            message: one_line(message.into()),
        }
    }
}

fn one_line(message: String) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub type Result<T> = std::result::Result<T, Error>;
