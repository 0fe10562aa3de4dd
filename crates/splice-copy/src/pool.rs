//! Idle pipes kept for reuse, per thread: a relay holds a pipe only while bytes move through
//! it, so a node with thousands of idle direct-copy connections holds few pipes and stays far
//! below `fs.pipe-user-pages-soft` (past it the kernel gives new pipes one page).

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::pipe::Pipe;

/// Empty pipes each thread keeps (two descriptors each).
const POOL_CAPACITY: usize = 16;
/// Empty pipes all threads keep together: what idle pipes may hold of the process's
/// descriptors does not grow with the number of worker threads.
const POOLED_IN_ALL: usize = 16;

/// Pipes in every thread's pool.
static POOLED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static POOL: RefCell<Vec<Pipe>> = const { RefCell::new(Vec::new()) };
}

/// An empty pipe from this thread's pool, or a new one (fails when the process is out of file
/// descriptors: callers then copy through their buffers).
pub fn take_pipe() -> io::Result<Pipe> {
    match POOL.with(|p| p.borrow_mut().pop()) {
        Some(pipe) => {
            POOLED.fetch_sub(1, Ordering::Relaxed);
            Ok(pipe)
        }
        None => Pipe::new(),
    }
}

/// Gives a pipe back for reuse once nothing is held in it; a pipe still holding bytes, or one
/// more than the pool keeps, is closed.
pub fn give_pipe(mut pipe: Pipe) {
    if !pipe.is_empty() {
        return;
    }
    pipe.reset();
    if POOLED.fetch_add(1, Ordering::Relaxed) >= POOLED_IN_ALL {
        POOLED.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    POOL.with(|p| {
        let mut pool = p.borrow_mut();
        if pool.len() < POOL_CAPACITY {
            pool.push(pipe);
        } else {
            POOLED.fetch_sub(1, Ordering::Relaxed);
        }
    });
}

/// Pipes this thread keeps now.
pub fn pooled() -> usize {
    POOL.with(|p| p.borrow().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_given_back_is_taken_again_and_the_pool_is_bounded() {
        let first = take_pipe().unwrap();
        let before = pooled();
        give_pipe(first);
        assert_eq!(pooled(), before + 1);
        let _again = take_pipe().unwrap();
        assert_eq!(pooled(), before);
        let many: Vec<Pipe> = (0..POOL_CAPACITY + 5)
            .map(|_| Pipe::new().unwrap())
            .collect();
        for pipe in many {
            give_pipe(pipe);
        }
        assert_eq!(pooled(), POOL_CAPACITY);
    }
}
