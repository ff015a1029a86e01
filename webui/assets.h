// The page's files, compiled into the binary (webui/CMakeLists.txt embeds ui/'s Vite build), so
// that `telepresence ui` needs no other file at run time.
#pragma once

#include <span>
#include <string_view>

namespace tp::webui {

struct Asset {
  std::string_view path;  // "/index.html", "/assets/index-1a2b.js"
  std::string_view bytes;
};

using AssetTable = std::span<const Asset>;

// The asset served at `path` ("/" is "/index.html"), or nullptr.
const Asset* FindAsset(AssetTable assets, std::string_view path);

// The content type for a file name's extension (.html, .js, .css, .svg, .png, .json, .ico,
// .woff2, .txt); application/octet-stream otherwise.
std::string_view ContentTypeOf(std::string_view file_name);

// The embedded build of ui/ (defined by the generated embedded_assets.cc).
AssetTable EmbeddedAssets();

}  // namespace tp::webui
