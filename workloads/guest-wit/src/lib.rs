//! The `compute` kernel as a component of the `pure-compute` world: its input (the number of
//! MiB, as text) comes from `read-input`, its result goes to `write-output`. `no_std`, so the
//! standard library cannot pull in a single WASI import behind our back.
#![no_std]

extern crate alloc;

#[path = "../../guest/src/kernel.rs"]
mod kernel;

use alloc::vec::Vec;

wit_bindgen::generate!({ world: "pure-compute", path: "../wit" });

struct PureCompute;

impl Guest for PureCompute {
    fn run() {
        let input = read_input();
        let mib = core::str::from_utf8(&input).ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(1);
        let hex = kernel::hex32(&kernel::compute_digest(mib));
        // Same line as the `compute` workload prints: "compute N MiB sha256 <hex>\n".
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(b"compute ");
        push_decimal(&mut out, mib);
        out.extend_from_slice(b" MiB sha256 ");
        out.extend_from_slice(&hex);
        out.push(b'\n');
        write_output(&out);
    }
}

fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[..len].iter().rev());
}

export!(PureCompute);

/// A bump allocator over linear memory: the guest lives for one call, so nothing is freed.
mod bump {
    use core::alloc::{GlobalAlloc, Layout};
    use core::sync::atomic::{AtomicUsize, Ordering};

    struct Bump {
        next: AtomicUsize,
        end: AtomicUsize,
    }

    // SAFETY: single-threaded guest; alloc hands out disjoint, aligned ranges of memory that
    // it has grown, and never reuses them.
    unsafe impl GlobalAlloc for Bump {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let align = layout.align().max(8);
            let mut next = self.next.load(Ordering::Relaxed);
            if next == 0 {
                let pages = core::arch::wasm32::memory_size(0);
                next = pages * 65536;
                self.end.store(next, Ordering::Relaxed);
            }
            let start = (next + align - 1) & !(align - 1);
            let new_next = start + layout.size();
            let end = self.end.load(Ordering::Relaxed);
            if new_next > end {
                let pages = (new_next - end).div_ceil(65536);
                if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                    return core::ptr::null_mut();
                }
                self.end.store(end + pages * 65536, Ordering::Relaxed);
            }
            self.next.store(new_next, Ordering::Relaxed);
            start as *mut u8
        }
        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
    }

    #[global_allocator]
    static ALLOC: Bump = Bump { next: AtomicUsize::new(0), end: AtomicUsize::new(0) };

    /// The canonical ABI's allocator export: the host calls it to place `read-input`'s list in
    /// our memory. (On wasip2, wasi-libc usually provides it; a `no_std` guest has none.)
    ///
    /// # Safety
    /// Called by the host per the canonical ABI: `old_ptr`/`old_len` describe an earlier
    /// allocation of ours (or are 0), `align` is a power of two.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn cabi_realloc(old_ptr: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
        if new_len == 0 {
            return align as *mut u8;
        }
        // SAFETY: a valid, non-zero-size layout; the bump allocator never moves old data.
        unsafe {
            let new = ALLOC.alloc(Layout::from_size_align_unchecked(new_len, align));
            if !new.is_null() && old_len > 0 {
                core::ptr::copy_nonoverlapping(old_ptr, new, old_len.min(new_len));
            }
            new
        }
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        core::arch::wasm32::unreachable()
    }
}
