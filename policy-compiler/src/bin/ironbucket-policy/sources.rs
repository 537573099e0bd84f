//! Reading a policy directory into source files, and principal mapping files.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ironbucket_policy::input::PrincipalSpec;
use ironbucket_policy::{MAX_SOURCE_BYTES, SourceFile};

/// Maximum number of policy files in one directory tree.
const MAX_POLICY_FILES: usize = 100_000;

/// Maximum size of a principal mapping file or a case file.
pub const MAX_INPUT_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads every `.yaml`, `.yml` and `.json` file under `dir`, recursively, skipping hidden
/// entries such as `.git` and not following symbolic links to directories.
///
/// Paths are relative to `dir` with `/` separators, so that the table digest does not depend
/// on where the directory was checked out or how it was named on the command line.
pub fn read_policy_dir(dir: &Path) -> Result<Vec<SourceFile>> {
    let metadata = fs::metadata(dir)
        .with_context(|| format!("cannot read policy directory {}", dir.display()))?;
    if !metadata.is_dir() {
        bail!(
            "{} is not a directory; pass the directory of policy files",
            dir.display()
        );
    }
    let mut paths = Vec::new();
    collect_policy_paths(dir, &mut paths)?;
    paths.sort();

    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let size = fs::metadata(&path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if size > MAX_SOURCE_BYTES as u64 {
            bail!(
                "{} is {size} bytes, more than the maximum of {MAX_SOURCE_BYTES} for a policy \
                 file; split it into several files",
                path.display()
            );
        }
        let text = fs::read_to_string(&path)
            .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let name = relative
            .components()
            .map(|component| component.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        sources.push(SourceFile::new(name, text));
    }
    Ok(sources)
}

fn collect_policy_paths(dir: &Path, paths: &mut Vec<PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let file_type = entry
            .file_type()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if file_type.is_dir() {
            collect_policy_paths(&path, paths)?;
        } else if is_policy_file(&path) && (file_type.is_file() || path.is_file()) {
            if paths.len() >= MAX_POLICY_FILES {
                bail!(
                    "{} holds more than {MAX_POLICY_FILES} policy files; point the tool at the \
                     policy directory itself",
                    dir.display()
                );
            }
            paths.push(path);
        }
    }
    Ok(())
}

fn is_policy_file(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| matches!(extension, "yaml" | "yml" | "json"))
}

/// Returns the sources with `dir` put in front of each path, for messages that an editor or
/// a CI annotation should resolve from the current directory.
pub fn with_display_paths(dir: &Path, sources: &[SourceFile]) -> Vec<SourceFile> {
    sources
        .iter()
        .map(|source| SourceFile::new(dir.join(&source.path).display().to_string(), &source.text))
        .collect()
}

/// Reads a text file after checking its size.
pub fn read_small_file(path: &Path, description: &str) -> Result<String> {
    let size = fs::metadata(path)
        .with_context(|| format!("cannot read {description} {}", path.display()))?
        .len();
    if size > MAX_INPUT_FILE_BYTES {
        bail!(
            "{description} {} is {size} bytes, more than the maximum of {MAX_INPUT_FILE_BYTES}",
            path.display()
        );
    }
    fs::read_to_string(path)
        .with_context(|| format!("cannot read {description} {}", path.display()))
}

/// Reads a YAML or JSON mapping of names (user ids) to principal attributes.
pub fn read_principals(path: &Path) -> Result<BTreeMap<String, PrincipalSpec>> {
    let text = read_small_file(path, "principal file")?;
    serde_norway::from_str(&text).with_context(|| {
        format!(
            "invalid principal file {}: expected a mapping of names to principals such as \
             alice: {{user_id: alice, roles: [dev]}}",
            path.display()
        )
    })
}
