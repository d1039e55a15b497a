print("hakmem")
