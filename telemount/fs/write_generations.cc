#include "telemount/fs/write_generations.h"

namespace tp::telemount {

bool IsInTree(std::string_view key, std::string_view tree) {
  if (!key.starts_with(tree)) return false;
  if (key.size() == tree.size() || tree == "/") return true;
  return key[tree.size()] == '/';
}

void WriteGenerations::ForgetAll() {
  changed_at_.clear();
  trees_changed_at_.clear();
  floor_ = clock_;
}

void WriteGenerations::Changed(const std::string& key) {
  if (changed_at_.size() >= kMaxKeys) ForgetAll();
  changed_at_[key] = ++clock_;
}

void WriteGenerations::ChangedTree(const std::string& key) {
  if (trees_changed_at_.size() >= kMaxTrees) ForgetAll();
  trees_changed_at_.emplace_back(key, ++clock_);
}

bool WriteGenerations::UnchangedSince(const std::string& key, Generation since) const {
  if (since < floor_) return false;
  if (auto it = changed_at_.find(key); it != changed_at_.end() && it->second > since) return false;
  for (const auto& [tree, at] : trees_changed_at_) {
    if (at > since && IsInTree(key, tree)) return false;
  }
  return true;
}

}  // namespace tp::telemount
