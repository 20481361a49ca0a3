//! A capped in-memory output pipe: keeps the first `cap` bytes, counts and drops the rest,
//! and never fails a guest write (a guest flooding stdout must not crash or grow the host).

use bytes::Bytes;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

#[derive(Default)]
struct Inner {
    data: Vec<u8>,
    dropped: u64,
}

#[derive(Clone)]
pub struct CappedPipe {
    cap: usize,
    inner: Arc<Mutex<Inner>>,
}

impl CappedPipe {
    pub fn new(cap: usize) -> CappedPipe {
        CappedPipe {
            cap,
            inner: Arc::default(),
        }
    }

    /// Appends what fits under the cap and counts the rest.
    pub fn write_bytes(&self, bytes: &[u8]) {
        self.push(bytes);
    }

    fn push(&self, bytes: &[u8]) {
        let mut inner = self.inner.lock().unwrap();
        let keep = bytes.len().min(self.cap.saturating_sub(inner.data.len()));
        inner.data.extend_from_slice(&bytes[..keep]);
        inner.dropped += (bytes.len() - keep) as u64;
    }

    /// The captured bytes and how many were dropped past the cap.
    pub fn take(&self) -> (Vec<u8>, u64) {
        let mut inner = self.inner.lock().unwrap();
        (std::mem::take(&mut inner.data), inner.dropped)
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CappedPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
