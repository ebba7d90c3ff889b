//! The module's exports, its allocator and its panic handler: the only
//! WebAssembly-specific code.
//!
//! The page's JavaScript writes observations into the input buffer
//! (`input(n)` returns where), calls `run(n, now)`, and reads the commands
//! from `output()` (`run` returns their length). Randomness comes from the
//! one import, `w.rand`, which fills bytes with `crypto.getRandomValues`.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

use alloc::vec::Vec;

use crate::Waggle;

#[link(wasm_import_module = "w")]
extern "C" {
    fn rand(ptr: *mut u8, len: usize);
}

fn fill(b: &mut [u8]) {
    // SAFETY: the import writes exactly `len` bytes at `ptr`.
    unsafe { rand(b.as_mut_ptr(), b.len()) }
}

/// State for a single-threaded module: no other thread can exist.
struct Local<T>(UnsafeCell<T>);

// SAFETY: wasm32-unknown-unknown without atomics has one thread.
unsafe impl<T> Sync for Local<T> {}

struct State {
    agent: Option<Waggle>,
    input: Vec<u8>,
    output: *const u8,
}

static STATE: Local<State> = Local(UnsafeCell::new(State { agent: None, input: Vec::new(), output: core::ptr::null() }));

fn state() -> &'static mut State {
    // SAFETY: one thread, and the exports never run re-entrantly: the
    // page's JavaScript calls them one at a time.
    unsafe { &mut *STATE.0.get() }
}

/// Makes room for `n` bytes of observations and returns where to write
/// them.
#[no_mangle]
pub extern "C" fn input(n: usize) -> *mut u8 {
    let s = state();
    s.input.clear();
    s.input.reserve(n);
    s.input.as_mut_ptr()
}

/// Handles the `n` bytes of observations written at `input`, at `now`
/// (`performance.now()`); returns the length of the commands at `output`.
#[no_mangle]
pub extern "C" fn run(n: usize, now: f64, wall: f64) -> usize {
    let s = state();
    // SAFETY: the page wrote `n` bytes into the buffer reserved by `input`.
    unsafe { s.input.set_len(n.min(s.input.capacity())) };
    let agent = s.agent.get_or_insert_with(|| Waggle::new(fill));
    let out = agent.run(&s.input, now, wall);
    s.output = out.as_ptr();
    out.len()
}

/// Where the commands of the last `run` are.
#[no_mangle]
pub extern "C" fn output() -> *const u8 {
    state().output
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // A trap: the page's guard catches the RuntimeError, says so once and
    // turns the agent off.
    core::arch::wasm32::unreachable()
}

/// A size-class allocator: blocks of 16 bytes to 2^31, each class a free
/// list, memory taken from the end of the heap and never given back (linear
/// memory cannot shrink). A few hundred bytes of code instead of dlmalloc's
/// several kilobytes; blocks are reused as they are freed, so memory stays
/// at what one batch needs however many spans go through.
struct Classes;

const MIN_CLASS: u32 = 4;
const PAGE: usize = 65_536;

struct Heap {
    free: [usize; 32],
    top: usize,
    end: usize,
}

static HEAP: Local<Heap> = Local(UnsafeCell::new(Heap { free: [0; 32], top: 0, end: 0 }));

extern "C" {
    static __heap_base: u8;
}

fn class(layout: &Layout) -> u32 {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    usize::BITS - (size - 1).leading_zeros()
}

unsafe impl GlobalAlloc for Classes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > 16 {
            return core::ptr::null_mut();
        }
        let c = class(&layout);
        if c >= 32 {
            return core::ptr::null_mut();
        }
        let h = &mut *HEAP.0.get();
        let head = h.free[c as usize];
        if head != 0 {
            h.free[c as usize] = *(head as *const usize);
            return head as *mut u8;
        }
        if h.top == 0 {
            h.top = (&__heap_base as *const u8 as usize + 15) & !15;
            h.end = core::arch::wasm32::memory_size(0) * PAGE;
        }
        let size = 1usize << c;
        if h.top + size > h.end {
            let pages = (h.top + size - h.end).div_ceil(PAGE);
            if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                return core::ptr::null_mut();
            }
            h.end += pages * PAGE;
        }
        let p = h.top;
        h.top += size;
        p as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let h = &mut *HEAP.0.get();
        let c = class(&layout) as usize;
        *(ptr as *mut usize) = h.free[c];
        h.free[c] = ptr as usize;
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = Layout::from_size_align_unchecked(new_size, layout.align());
        if class(&new) == class(&layout) {
            return ptr;
        }
        let p = self.alloc(new);
        if !p.is_null() {
            core::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Classes = Classes;
