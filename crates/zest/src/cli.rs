//! The command line (CONTRACT.md): one subcommand per daemon and per admin task.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "zest",
    version,
    about = "Zest: a self-hosted, all-in-one mail server"
)]
pub struct Cli {
    /// Config file (else $ZEST_CONFIG, else ./zest.toml if present, else built-in defaults)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every daemon in one process
    Serve,
    /// Run the IMAP daemon
    Imapd,
    /// Run the submission daemon and outbound queue
    Submission,
    /// Run the delivery agent (LMTP and inbound SMTP)
    Mda,
    /// Run the ManageSieve daemon
    Managesieve,
    /// Run the admin web UI
    Admin,
    /// Manage domains
    #[command(subcommand)]
    Domain(DomainCmd),
    /// Manage users
    #[command(subcommand)]
    User(UserCmd),
    /// Manage aliases (address → user)
    #[command(subcommand)]
    Alias(AliasCmd),
    /// Manage users' address books
    #[command(subcommand)]
    Addrbook(AddrbookCmd),
    /// Manage external lists named by tag: URIs
    #[command(subcommand)]
    List(ListCmd),
    /// Manage users' Sieve scripts
    #[command(subcommand)]
    Sieve(SieveCmd),
    /// Deliver a message from stdin through the full delivery path
    Deliver(DeliverArgs),
    /// Inspect and manage the outbound queue
    #[command(subcommand)]
    Queue(QueueCmd),
    /// Check the config and the database; --health probes the running daemons
    Check {
        #[arg(long)]
        health: bool,
        /// With --health: probe only this daemon (imapd, submission, mda,
        /// managesieve, admin) and skip the database checks; a container's health check
        #[arg(long, value_name = "NAME", requires = "health")]
        daemon: Option<String>,
    },
    /// Copy a live system to DIR, verified
    Backup { dir: PathBuf },
    /// Restore a copy made by `zest backup` (stop the daemons first)
    Restore {
        dir: PathBuf,
        /// Replace a database that already holds data (it is kept beside the new one)
        #[arg(long)]
        force: bool,
    },
    /// Measure the store
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(Debug, Subcommand)]
pub enum DomainCmd {
    /// Add a domain Zest receives mail for
    Add { domain: String },
    /// Delete a domain that has no users or aliases left
    Del { domain: String },
    /// List domains
    List,
    /// Print the DNS records to publish for a domain
    Dns { domain: String },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct PasswordArgs {
    /// Read the password from the first line of stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// The password (visible to other local users in the process list)
    #[arg(long, value_name = "PW")]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user with INBOX, Drafts, Sent, Trash, Junk, Archive and the address book "default"
    Add {
        address: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// Give the user the admin role
        #[arg(long)]
        admin: bool,
    },
    /// Grant or remove the admin role
    Admin { address: String, state: OnOff },
    /// Delete a user and everything the user owns
    Del { address: String },
    /// Set a user's password
    Passwd {
        address: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// List users, all or of one domain
    List { domain: Option<String> },
    /// Set a user's storage quota (e.g. 2G, 500M, 1048576) or "none"
    Quota { address: String, size: String },
}

#[derive(Debug, Subcommand)]
pub enum AliasCmd {
    /// Deliver mail for ALIAS to the user TARGET
    Add { alias: String, target: String },
    /// Delete an alias
    Del { alias: String },
    /// List aliases, all or of one domain
    List { domain: Option<String> },
}

#[derive(Debug, Subcommand)]
pub enum AddrbookCmd {
    /// Add a contact to a user's address book
    Add {
        user: String,
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "default")]
        book: String,
    },
    /// Remove an email (and its contact, when it has no other) from an address book
    Del {
        user: String,
        email: String,
        #[arg(long, default_value = "default")]
        book: String,
    },
    /// List the contacts of an address book
    List {
        user: String,
        #[arg(long, default_value = "default")]
        book: String,
        /// Only contacts whose name or email contains this
        #[arg(long)]
        search: Option<String>,
    },
    /// Import contacts from a vCard (.vcf) or CSV file
    Import {
        user: String,
        file: PathBuf,
        #[arg(long, default_value = "default")]
        book: String,
    },
    /// Manage a user's address books themselves
    #[command(subcommand)]
    Book(BookCmd),
}

#[derive(Debug, Subcommand)]
pub enum BookCmd {
    /// Create an address book
    Add { user: String, book: String },
    /// Delete an address book and its contacts ("default" cannot be deleted)
    Del { user: String, book: String },
    /// List a user's address books
    List { user: String },
}

#[derive(Debug, Subcommand)]
pub enum ListCmd {
    /// Create a list (a tag: URI with this server's prefix, or a short NAME)
    Create {
        uri: String,
        /// The user who owns it (only that user's scripts see it); default: the server
        #[arg(long)]
        owner: Option<String>,
    },
    /// Add members
    #[command(arg_required_else_help = true)]
    Add {
        uri: String,
        #[arg(required = true)]
        values: Vec<String>,
    },
    /// Remove members (all must be members, or nothing changes)
    #[command(arg_required_else_help = true)]
    Del {
        uri: String,
        #[arg(required = true)]
        values: Vec<String>,
    },
    /// Show a list's members
    Show { uri: String },
    /// List lists, all or those a user owns
    List {
        #[arg(long)]
        owner: Option<String>,
    },
    /// Delete a list and its members
    Delete { uri: String },
}

#[derive(Debug, Subcommand)]
pub enum SieveCmd {
    /// Store a script from FILE (- for stdin)
    Put {
        user: String,
        name: String,
        file: PathBuf,
        #[arg(long)]
        activate: bool,
    },
    /// Make a script the active one
    Activate { user: String, name: String },
    /// Deactivate the active script
    Deactivate { user: String },
    /// Print a script
    Get { user: String, name: String },
    /// Delete a script (not the active one)
    Del { user: String, name: String },
    /// List a user's scripts ("*" marks the active one)
    List { user: String },
}

#[derive(Debug, Args)]
pub struct DeliverArgs {
    #[arg(long)]
    pub to: Vec<String>,
    #[arg(long)]
    pub from: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum QueueCmd {
    List,
    Flush,
    Retry { id: String },
    Del { id: String },
}

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Contact import, membership lookups and durable appends
    Store {
        /// Where to put the benchmark database (default: a temporary directory)
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Contacts to import
        #[arg(long, default_value_t = 100_000)]
        contacts: usize,
        /// Messages per writer-count step
        #[arg(long, default_value_t = 4000)]
        messages: usize,
    },
    /// Mixed IMAP load (login, list, status, select, fetch, store, expunge,
    /// append, logout) against one or more servers in one run
    Imap(ImapBenchArgs),
    /// IMAP size targets on a temporary Zest imapd: SELECT of a large mailbox,
    /// FETCH (FLAGS ENVELOPE) of 1,000 messages, memory of idle connections
    ImapScale(ImapScaleArgs),
    /// Forwarding a large attachment by reference (CATENATE, GENURLAUTH, BURL)
    /// against download and re-upload: bytes on the client's links and time
    Forward(ForwardBenchArgs),
    /// Submission with 10 pipelining clients: to a local mailbox through LMTP,
    /// Sieve and the store, and relayed to a remote sink, against a peer
    /// submission server relaying to the same sink in the same run
    Submission(SubmissionBenchArgs),
    /// The other process of the idle-connection measurement
    #[command(hide = true)]
    ImapIdleClients { addr: String, count: usize },
    /// The other process of the cross-process change-feed measurement
    #[command(hide = true)]
    FeedWriter {
        db: PathBuf,
        account: String,
        count: usize,
    },
}

#[derive(Debug, clap::Args)]
pub struct SubmissionBenchArgs {
    /// Messages per measurement
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// Concurrent clients, each pipelining MAIL, RCPT and DATA
    #[arg(long, default_value_t = 10)]
    pub clients: usize,
    /// An SMTP sink (e.g. postfix's smtp-sink) to relay to, as HOST:PORT;
    /// without it only local delivery is measured
    #[arg(long)]
    pub sink: Option<String>,
    /// A peer submission server relaying to the same sink, as NAME=HOST:PORT
    #[arg(long)]
    pub peer: Option<String>,
    /// Login at the peer
    #[arg(long, default_value = "testuser1@example.org")]
    pub peer_user: String,
    #[arg(long, default_value = "pass")]
    pub peer_password: String,
}

#[derive(Debug, clap::Args)]
pub struct ForwardBenchArgs {
    /// Size of the message forwarded, in MB
    #[arg(long, default_value_t = 20)]
    pub size_mb: usize,
    /// Runs of each path (the fastest is reported)
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Client link speed, in Mbit/s, for the estimate of each path's time off loopback
    #[arg(long, default_value_t = 10.0)]
    pub link_mbit: f64,
}

#[derive(Debug, clap::Args)]
pub struct ImapScaleArgs {
    /// Messages in the mailbox SELECT opens
    #[arg(long, default_value_t = 100_000)]
    pub messages: usize,
    /// Messages FETCH (FLAGS ENVELOPE) reads
    #[arg(long, default_value_t = 1000)]
    pub fetch: usize,
    /// Idle authenticated connections to hold open (0: skip)
    #[arg(long, default_value_t = 10_000)]
    pub idle: usize,
    /// SELECT and FETCH rounds
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

#[derive(Debug, clap::Args)]
pub struct ImapBenchArgs {
    /// A server to measure, as NAME=HOST:PORT (repeat to compare servers in one run)
    #[arg(long = "server", required_unless_present = "zest")]
    pub servers: Vec<String>,
    /// Also measure a temporary Zest imapd started in this process (as server "zest")
    #[arg(long)]
    pub zest: bool,
    /// Login names; %d is replaced by a number from 1 to --users
    #[arg(long, default_value = "testuser%d@example.org")]
    pub user: String,
    #[arg(long, default_value = "pass")]
    pub password: String,
    /// How many distinct users the clients log in as
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// Messages to APPEND, as an mbox (e.g. from make-mbox.py)
    #[arg(long)]
    pub mbox: PathBuf,
    /// Concurrent clients; repeat for several steps (e.g. --clients 10 --clients 50)
    #[arg(long, default_values_t = [10usize])]
    pub clients: Vec<usize>,
    /// Seconds of load per server and step
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    /// Messages each mailbox holds before the load starts
    #[arg(long, default_value_t = 30)]
    pub fill: usize,
    /// After each step, measure every server again at the same offered load
    /// (the slowest server's session rate), so latencies compare like with like
    #[arg(long)]
    pub same_load: bool,
}
