//! The byte encoding of records: a [`Writer`] appends fields, a [`Reader`]
//! takes them back and turns every short, overlong or malformed field into
//! [`Corrupted`], never a panic.
#![warn(clippy::indexing_slicing)]

use crate::id::Key;

use super::{Corrupted, FORMAT, corrupted};

pub(super) struct Writer(Vec<u8>);

impl Writer {
    /// The encoded record.
    pub(super) fn finish(self) -> Vec<u8> {
        self.0
    }
    pub(super) fn new(tag: u8) -> Self {
        Writer(vec![FORMAT, tag])
    }
    pub(super) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(super) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(super) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(super) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(super) fn str(&mut self, s: &str) {
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        self.u32(len);
        self.0.extend_from_slice(s.as_bytes());
    }
    pub(super) fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    pub(super) fn bytes32(&mut self, v: &[u8; 32]) {
        self.0.extend_from_slice(v);
    }
    pub(super) fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u64(v);
            }
        }
    }
}

pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8], tag: u8, what: &'static str) -> Result<Self, Corrupted> {
        let mut r = Reader { bytes, what };
        let format = r.u8()?;
        if format != FORMAT {
            return Err(Corrupted::new(format!(
                "{what} has format {format}, this version reads format {FORMAT}"
            )));
        }
        if r.u8()? != tag {
            return Err(corrupted(what));
        }
        Ok(r)
    }
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupted> {
        if self.bytes.len() < n {
            return Err(corrupted(self.what));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    pub(super) fn u8(&mut self) -> Result<u8, Corrupted> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }
    pub(super) fn u32(&mut self) -> Result<u32, Corrupted> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| corrupted(self.what))?;
        Ok(u32::from_be_bytes(b))
    }
    pub(super) fn u64(&mut self) -> Result<u64, Corrupted> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| corrupted(self.what))?;
        Ok(u64::from_be_bytes(b))
    }
    pub(super) fn i64(&mut self) -> Result<i64, Corrupted> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| corrupted(self.what))?;
        Ok(i64::from_be_bytes(b))
    }
    pub(super) fn str(&mut self) -> Result<String, Corrupted> {
        let len = usize::try_from(self.u32()?).map_err(|_| corrupted(self.what))?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| corrupted(self.what))
    }
    /// Whether the record ends here: fields that records of an older
    /// layout do not have are read only when it does not.
    pub(super) fn at_end(&self) -> bool {
        self.bytes.is_empty()
    }
    pub(super) fn opt_str(&mut self) -> Result<Option<String>, Corrupted> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err(corrupted(self.what)),
        }
    }
    pub(super) fn bytes32(&mut self) -> Result<[u8; 32], Corrupted> {
        self.take(32)?.try_into().map_err(|_| corrupted(self.what))
    }
    pub(super) fn opt_u64(&mut self) -> Result<Option<u64>, Corrupted> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.u64().map(Some),
            _ => Err(corrupted(self.what)),
        }
    }
    pub(super) fn key(&mut self) -> Result<Key, Corrupted> {
        Key::new(self.str()?).map_err(|_| corrupted(self.what))
    }
    pub(super) fn end(self) -> Result<(), Corrupted> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(corrupted(self.what))
        }
    }
}
