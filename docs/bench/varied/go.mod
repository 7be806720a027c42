module github.com/modshop/modshop/docs/bench/varied

go 1.26.0
