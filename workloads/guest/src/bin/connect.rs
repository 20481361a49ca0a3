//! `connect HOST:PORT`: opens a TCP connection, sends a line, prints `connected` or the error.
use std::io::Write;

fn main() {
    let addr = guest::arg_string(1, "connect HOST:PORT");
    match std::net::TcpStream::connect(&addr) {
        Ok(mut stream) => {
            let _ = stream.write_all(b"hello from the sandbox\n");
            println!("connected");
        }
        Err(e) => {
            println!("refused: {}", e.kind());
            std::process::exit(1);
        }
    }
}
