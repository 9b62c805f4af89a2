#pragma once
namespace zpark::conf {
inline constexpr const char* kVersion = "0.1.0";
}
