# shellcheck shell=bash
# Helpers shared by Pier's built-in buildpacks (sourced from /pier/lib/buildpack.sh by their bin/compile).

say() { echo "-----> $*"; }
indent() { sed -u 's/^/       /'; }
fail() { echo " !     $*"; exit 1; }

# export_env_dir ENV_DIR: the app's config vars (one file each) in the environment of the build's tools, as
# Heroku's buildpacks do (NPM_CONFIG_*, GOPROXY, NODE_ENV...). Variables that would change how the build
# itself runs are left out.
export_env_dir() {
  local dir=$1 file name
  [[ -d $dir ]] || return 0
  for file in "$dir"/*; do
    [[ -f $file ]] || continue
    name=${file##*/}
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    case $name in
      PATH | HOME | SHELL | IFS | ENV | BASH_ENV | SHELLOPTS | BASHOPTS | PS4 | LANG | STACK | BUILD_DIR | \
      GIT_DIR | CPATH | CPPATH | LD_PRELOAD | LD_LIBRARY_PATH | LIBRARY_PATH | GOROOT | GOTOOLCHAIN) continue ;;
    esac
    export "$name=$(cat "$file")"
  done
}

# cache_disabled ENV_DIR: true when the app set DEIS_DISABLE_CACHE, as the Python buildpack reads it.
cache_disabled() { [[ -e $1/DEIS_DISABLE_CACHE || -n ${DEIS_DISABLE_CACHE:-} ]]; }

# save_cached SOURCE CACHED KEY_FILE KEY: a copy of SOURCE at CACHED, trusted for KEY. Written aside and moved,
# with the key last, so an interrupted build never leaves a trusted half copy.
save_cached() {
  local source=$1 cached=$2 key_file=$3 key=$4
  rm -rf "$cached.new" "$key_file"
  cp -a "$source" "$cached.new"
  rm -rf "$cached"
  mv "$cached.new" "$cached"
  echo "$key" > "$key_file"
}

# cached_matches CACHED KEY_FILE KEY: the cache holds a copy made from the same inputs.
cached_matches() { [[ -d $1 && -f $2 && $(cat "$2") == "$3" ]]; }
