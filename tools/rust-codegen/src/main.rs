//! Reads a FileDescriptorSet (from `buf build --as-file-descriptor-set`) and
//! writes the prost messages and tonic client/server for llmgateway.v1.
//! Well-known types come from prost-types, so their files are not generated.
use prost::Message;
use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = env::args().skip(1);
    let image = PathBuf::from(args.next().ok_or("usage: codegen IMAGE OUT_DIR")?);
    let out_dir = PathBuf::from(args.next().ok_or("usage: codegen IMAGE OUT_DIR")?);
    let mut fds = prost_types::FileDescriptorSet::decode(fs::read(&image)?.as_slice())?;
    fds.file
        .retain(|f| !f.name().starts_with("google/protobuf/"));
    fs::create_dir_all(&out_dir)?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .out_dir(&out_dir)
        .compile_fds(fds)?;
    Ok(())
}
