//! `ordersync`: see the library crate for the layout.

fn main() -> std::process::ExitCode {
    ordersync::cli::main()
}
