//! COMPRESS=DEFLATE (RFC 4978): raw deflate (no zlib header) in both
//! directions over the plain or TLS socket. Every write ends with a sync
//! flush, so each batch of responses (an IDLE or NOTIFY update included)
//! reaches the client at once.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::Stream;

/// Compressed bytes read per socket read.
const RAW_CHUNK: usize = 16 * 1024;

pub(crate) struct Deflate {
    pub inner: Stream,
    comp: Compress,
    decomp: Decompress,
    /// Compressed bytes received and not yet inflated.
    raw: Vec<u8>,
    out: Vec<u8>,
}

fn invalid(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
}

impl Deflate {
    /// Wraps `inner`; `pending` are bytes the client sent after the command,
    /// already compressed.
    pub fn new(inner: Stream, pending: Vec<u8>) -> Deflate {
        Deflate {
            inner,
            comp: Compress::new(Compression::default(), false),
            decomp: Decompress::new(false),
            raw: pending,
            out: Vec::new(),
        }
    }

    /// Inflates into `buf` what is available, reading from the socket when
    /// nothing is; Ok(0) at the end of the stream.
    pub async fn read_buf(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        loop {
            if !self.raw.is_empty() {
                if buf.capacity() == buf.len() {
                    buf.reserve(RAW_CHUNK);
                }
                let before_in = self.decomp.total_in();
                let before_len = buf.len();
                let status = self
                    .decomp
                    .decompress_vec(&self.raw, buf, FlushDecompress::None)
                    .map_err(invalid)?;
                let used = (self.decomp.total_in() - before_in) as usize;
                self.raw.drain(..used);
                let produced = buf.len() - before_len;
                if produced > 0 {
                    return Ok(produced);
                }
                if status == Status::StreamEnd {
                    return Ok(0);
                }
                if used == 0 && buf.capacity() > buf.len() && !self.raw.is_empty() {
                    // No progress with room to spare: not a deflate stream.
                    return Err(invalid("corrupt deflate stream"));
                }
            }
            let mut chunk = Vec::with_capacity(RAW_CHUNK);
            let n = self.inner.raw_read(&mut chunk).await?;
            if n == 0 {
                return Ok(0);
            }
            self.raw.extend_from_slice(&chunk);
        }
    }

    /// Deflates `data`, sync-flushes and writes the result.
    pub async fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.out.clear();
        let mut input = data;
        loop {
            self.out.reserve(input.len() / 2 + 1024);
            let before = self.comp.total_in();
            self.comp
                .compress_vec(input, &mut self.out, FlushCompress::Sync)
                .map_err(invalid)?;
            let used = (self.comp.total_in() - before) as usize;
            input = &input[used..];
            // Done once all input is in and the flush left spare room.
            if input.is_empty() && self.out.len() < self.out.capacity() {
                break;
            }
        }
        let out = std::mem::take(&mut self.out);
        let r = self.inner.raw_write(&out).await;
        self.out = out;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compress;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut c = Compress::new(Compression::default(), false);
        let mut out = Vec::with_capacity(data.len() + 1024);
        c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
        out
    }

    /// A short deflated input can inflate to more than one read buffer holds:
    /// what the inflater still holds must come out without waiting for more
    /// bytes from the socket (the client is waiting for the reply).
    #[tokio::test]
    async fn inflated_bytes_beyond_the_buffer_are_not_held_back() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let data = b"a1 NOOP\r\n".repeat(2000);
        let wire = deflate(&data);
        assert!(wire.len() < 200, "{}", wire.len());
        tokio::io::AsyncWriteExt::write_all(&mut client, &wire)
            .await
            .unwrap();
        let mut d = Deflate::new(Stream::Plain(server), Vec::new());
        let mut got = Vec::new();
        while got.len() < data.len() {
            let mut buf = Vec::with_capacity(64);
            let read =
                tokio::time::timeout(std::time::Duration::from_secs(5), d.read_buf(&mut buf))
                    .await
                    .expect("inflated bytes were held back")
                    .unwrap();
            assert!(read > 0);
            got.extend_from_slice(&buf);
        }
        assert_eq!(got, data);
        drop(client);
    }
}
