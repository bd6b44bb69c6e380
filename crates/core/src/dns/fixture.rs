//! A small authoritative DNS server on 127.0.0.1 (UDP, port 0) answering
//! from a fixed table, so that code which resolves (SPF, DKIM, DMARC, the
//! dashboard's record check) can be exercised without the network. Point
//! `[dns] servers` at [`ZoneServer::addr`].

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use mail_auth::hickory_resolver::proto::op::{Message, MessageType, OpCode, ResponseCode};
use mail_auth::hickory_resolver::proto::rr::rdata::{A, MX, TXT};
use mail_auth::hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

type Table = HashMap<(String, RecordType), Vec<RData>>;

/// The server; it stops when dropped.
pub struct ZoneServer {
    addr: SocketAddr,
    table: Arc<Mutex<Table>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ZoneServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl ZoneServer {
    pub async fn start() -> std::io::Result<ZoneServer> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = socket.local_addr()?;
        let table: Arc<Mutex<Table>> = Arc::default();
        let t = table.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                let Some(reply) = buf.get(..n).and_then(|q| answer(&t, q)) else {
                    continue;
                };
                let _ = socket.send_to(&reply, peer).await;
            }
        });
        Ok(ZoneServer { addr, table, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn add(&self, name: &str, rtype: RecordType, data: RData) {
        if let Ok(mut t) = self.table.lock() {
            t.entry((key(name), rtype)).or_default().push(data);
        }
    }

    /// A TXT record; values longer than 255 bytes become several strings.
    pub fn txt(&self, name: &str, value: &str) {
        let strings = value
            .as_bytes()
            .chunks(255)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        self.add(name, RecordType::TXT, RData::TXT(TXT::new(strings)));
    }

    pub fn mx(&self, name: &str, preference: u16, host: &str) {
        if let Ok(host) = Name::from_ascii(format!("{}.", key(host))) {
            self.add(name, RecordType::MX, RData::MX(MX::new(preference, host)));
        }
    }

    pub fn a(&self, name: &str, ip: Ipv4Addr) {
        self.add(name, RecordType::A, RData::A(A(ip)));
    }
}

/// The response to one query: the table's records, NXDOMAIN when the name
/// has none of any type.
fn answer(table: &Mutex<Table>, query: &[u8]) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let q = request.queries().first()?.clone();
    let name = key(&q.name().to_ascii());
    let mut response = Message::new(request.id(), MessageType::Response, OpCode::Query);
    response.set_authoritative(true);
    response.set_recursion_desired(request.recursion_desired());
    response.set_recursion_available(true);
    response.add_query(q.clone());
    let table = table.lock().ok()?;
    match table.get(&(name.clone(), q.query_type())) {
        Some(records) => {
            for r in records {
                response.add_answer(Record::from_rdata(q.name().clone(), 60, r.clone()));
            }
        }
        None if table.keys().any(|(n, _)| *n == name) => {}
        None => {
            response.set_response_code(ResponseCode::NXDomain);
        }
    }
    response.to_vec().ok()
}
