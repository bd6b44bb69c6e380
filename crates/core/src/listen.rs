//! Binding a daemon's listeners.

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// Binds every address (port 0 allowed) and reports where each listener
/// ended up; the error names the address that could not be bound.
pub async fn bind_all(
    addrs: &[SocketAddr],
) -> Result<Vec<(TcpListener, SocketAddr)>, (SocketAddr, std::io::Error)> {
    let mut out = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let l = TcpListener::bind(addr).await.map_err(|e| (*addr, e))?;
        let local = l.local_addr().map_err(|e| (*addr, e))?;
        out.push((l, local));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_port_zero_and_names_the_address_that_fails() {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let bound = bind_all(&[any, any]).await.unwrap();
        assert_eq!(bound.len(), 2);
        assert!(bound.iter().all(|(_, a)| a.port() != 0));
        let taken = bound[0].1;
        let (addr, _) = bind_all(&[any, taken]).await.unwrap_err();
        assert_eq!(addr, taken);
    }
}
