fn main() {
    for p in runner::registry::all() {
        println!("{} {}", p.kind.name(), p.name);
    }
}
