//! The memory of one compiled policy: every text, list and pattern of it lives in one
//! `bumpalo` arena, allocated in a few blocks and freed at once with the policy (compiled
//! types are plain data: references into the arena, numbers; nothing to drop one by one).

/// The arena a compiled policy lives in.
pub(crate) type Arena = bumpalo::Bump;

/// A growable list in an arena, frozen into a slice with `into_bump_slice`.
pub(crate) type ArenaVec<'a, T> = bumpalo::collections::Vec<'a, T>;

/// `text`, copied into the arena.
pub(crate) fn text<'a>(arena: &'a Arena, text: &str) -> &'a str {
    arena.alloc_str(text)
}

/// `text` ASCII-lower-cased, in the arena.
pub(crate) fn lowercase<'a>(arena: &'a Arena, text: &str) -> &'a str {
    let copy = arena.alloc_str(text);
    copy.make_ascii_lowercase();
    copy
}

/// The items, in a slice of the arena allocated at its final size.
pub(crate) fn collect<T: Copy>(arena: &Arena, items: impl ExactSizeIterator<Item = T>) -> &[T] {
    arena.alloc_slice_fill_iter(items)
}

/// An arena for tests, never freed.
#[cfg(test)]
pub(crate) fn leaked() -> &'static Arena {
    Box::leak(Box::new(Arena::new()))
}
