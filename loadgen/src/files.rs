//! The `write-files` command: writes the workload's prepared objects as files
//! `ROOT/BUCKET/KEY`, so that a static file server (nginx) serves the same bytes that the
//! gateway's prepare phase stores, and GET checks pass against both.

use std::fs;
use std::io::Write as _;

use crate::cli::WriteFilesArgs;
use crate::content::{content_seed, fill_content};
use crate::error::LoadgenError;
use crate::settings;

/// Writes every object and returns the exit code.
pub fn run(args: &WriteFilesArgs) -> Result<u8, LoadgenError> {
    let mut workload_args = args.workload.clone();
    // The objects' bytes do not depend on credentials.
    workload_args.anonymous = true;
    let workload = settings::workload(&workload_args)?.workload;
    let file_error = |path: &std::path::Path| {
        let path = path.to_owned();
        move |source| LoadgenError::File { path, source }
    };
    let mut chunk = vec![0_u8; 1 << 20];
    for index in 0..workload.keys {
        let key = workload.object_key(index);
        let path = args.root.join(&workload.bucket).join(&key);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(file_error(parent))?;
        }
        let mut file = fs::File::create(&path).map_err(file_error(&path))?;
        let seed = content_seed(&key);
        let mut position = 0;
        while position < workload.object_size {
            let take = (workload.object_size - position).min(chunk.len() as u64) as usize;
            fill_content(seed, position, &mut chunk[..take]);
            file.write_all(&chunk[..take]).map_err(file_error(&path))?;
            position += take as u64;
        }
    }
    println!(
        "wrote {} objects of {} bytes under {}",
        workload.keys,
        workload.object_size,
        args.root.join(&workload.bucket).display()
    );
    Ok(0)
}
